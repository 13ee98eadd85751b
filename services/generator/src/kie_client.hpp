// KIE's market API: createTask and recordInfo, with answers sorted into
// what the generator must do next.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

#include "kie_answers.hpp"
#include "kiebot/http/http.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::http {
class Client;
}

namespace kiebot::generator {

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
