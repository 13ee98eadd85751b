// KIE's APIs behind one interface: create a task, read its state (the
// callbacks only name the task to read). Each family has its own paths,
// request shape and status answer: the market (createTask with model and
// input, recordInfo) and Suno (/api/v1/generate with the fields at the top
// level and a required callBackUrl, /api/v1/generate/record-info).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "kie_answers.hpp"
#include "kiebot/http/http.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::http {
class Client;
}

namespace kiebot::generator {

enum class KieApi { market, suno };
// The family of a catalog model's `api` ("market", "suno").
KieApi kie_api_named(std::string_view name);

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
