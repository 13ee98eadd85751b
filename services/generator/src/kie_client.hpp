// KIE's APIs behind one interface: create a task, read its state (the
// callbacks only name the task to read). Each family has its own paths,
// request shape and status answer (kie_family_answers.cpp reads them):
// - market: createTask with `model` and `input`, recordInfo;
// - Suno, Veo 3.1, Runway, 4o Image, Flux Kontext, Midjourney: the input's
//   fields at the top level of the body, each with its own status route.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "kie_answers.hpp"
#include "kiebot/http/http.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::http {
class Client;
}

namespace kiebot::generator {

enum class KieApi { market, suno, veo, runway, gpt4o_image, flux_kontext, midjourney };

// How one of KIE's API families is called.
struct KieFamily {
  KieApi api;
  std::string_view name;         // the catalog's `api`
  std::string_view create_path;  // POST
  std::string_view status_path;  // GET, with ?taskId=
  bool wraps_input;              // {"model", "input"} (market) or the input's fields as the body
  bool callback_required;        // KIE refuses a task without callBackUrl (Suno, Runway)
  TaskState (*parse)(int http_status, const std::string& body);
};

const KieFamily& kie_family(KieApi api);
// The family of a catalog model's `api` ("market", "suno", "veo", ...), if any.
std::optional<KieApi> kie_api_named(std::string_view name);

class KieClient {
 public:
  // `create_timeout`: how long createTask may take to answer; after it the
  // outcome is ambiguous (the task may exist), never retried.
  KieClient(http::Client& client, std::string base, std::string key,
            std::chrono::milliseconds create_timeout = std::chrono::seconds(30));

  net::awaitable<Submitted> create_task(KieApi api, std::string model, nlohmann::json input, std::string callback_url);
  net::awaitable<TaskState> record_info(KieApi api, std::string task_id);

 private:
  http::Client& client_;
  std::string base_;
  std::string key_;
  std::chrono::milliseconds create_timeout_;
};

}  // namespace kiebot::generator
