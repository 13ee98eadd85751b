// KIE's market API: createTask and recordInfo, with answers sorted into
// what the generator must do next.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "kiebot/common/http.hpp"
#include "kiebot/common/net.hpp"

namespace kiebot::http {
class Client;
}

namespace kiebot::generator {

struct Submitted {
  enum class Kind {
    created,     // task_id is set
    retry,       // 429, 455, 500, 5xx, or not sent at all: try again later
    no_credits,  // 402: KIE's account is empty
    rejected,    // 422 or another 4xx: our input is wrong
    ambiguous,   // the request may have reached KIE, but no answer came
    unauthorized,
  };
  Kind kind = Kind::retry;
  int code = 0;  // KIE's code (HTTP status when there is no body code)
  std::string task_id;
  std::string message;
};

struct TaskState {
  enum class Kind { pending, success, fail, unknown };
  Kind kind = Kind::unknown;
  std::string state;  // waiting, queuing, generating, success, fail
  std::vector<std::string> result_urls;
  std::string fail_code;
  std::string fail_message;
  std::int64_t cost_time_ms = 0;
  std::string error;  // why the check itself failed (Kind::unknown)
  std::string callback_url;  // the callBackUrl the task was created with
};

// Sorting, pure for unit tests.
Submitted classify_create(int http_status, const std::string& body);
TaskState parse_record_info(int http_status, const std::string& body);

class KieClient {
 public:
  // `create_timeout`: how long createTask may take to answer; after it the
  // outcome is ambiguous (the task may exist), never retried.
  KieClient(http::Client& client, std::string base, std::string key,
            std::chrono::milliseconds create_timeout = std::chrono::seconds(30));

  net::awaitable<Submitted> create_task(std::string model, nlohmann::json input, std::string callback_url);
  net::awaitable<TaskState> record_info(std::string task_id);

 private:
  http::Client& client_;
  std::string base_;
  std::string key_;
  std::chrono::milliseconds create_timeout_;
};

}  // namespace kiebot::generator
