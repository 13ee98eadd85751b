// Bot API calls and the sorting of their answers (see bot_api.hpp).
#include "kiebot/common/json.hpp"
#include "bot_api.hpp"

#include <nlohmann/json.hpp>

#include "kiebot/common/http_client.hpp"

namespace kiebot::ingress {

Answer classify(http::Response response) {
  Answer answer;
  answer.status = response.status;
  // Telegram answers 200 exactly when "ok" is true; callers validate the
  // result they read. Not parsing it here matters: a getUpdates answer is
  // up to 100 updates, and building a DOM of it cost more than the scan.
  if (response.status == 200) {
    answer.kind = Answer::Kind::ok;
    answer.body = std::move(response.body);
    return answer;
  }
  nlohmann::json body = parse_untrusted(response.body, {64, 64u << 20});
  if (body.is_object()) {
    answer.description = body.value("description", "");
    if (auto params = body.find("parameters"); params != body.end() && params->is_object()) {
      answer.retry_after = std::chrono::seconds(params->value("retry_after", 0));
    }
  }
  if (answer.description.empty()) answer.description = "HTTP " + std::to_string(response.status);
  switch (response.status) {
    case 409:
      answer.kind = Answer::Kind::conflict;
      break;
    case 429:
      answer.kind = Answer::Kind::throttled;
      if (answer.retry_after.count() <= 0) {
        auto header = response.header("Retry-After");
        answer.retry_after = std::chrono::seconds(header ? std::atoi(std::string(*header).c_str()) : 1);
      }
      answer.retry_after = std::max(answer.retry_after, std::chrono::seconds(1));
      break;
    case 401:
    case 404:  // Telegram answers 404 for a token it cannot even parse
      answer.kind = Answer::Kind::unauthorized;
      break;
    default:
      answer.kind = response.status >= 500 ? Answer::Kind::transient : Answer::Kind::rejected;
  }
  return answer;
}

ConflictCause conflict_cause(const std::string& description) {
  if (description.find("webhook") != std::string::npos) return ConflictCause::webhook_active;
  if (description.find("other getUpdates") != std::string::npos) return ConflictCause::other_poller;
  return ConflictCause::unknown;
}

const char* to_string(ConflictCause cause) {
  switch (cause) {
    case ConflictCause::other_poller:
      return "other_poller";
    case ConflictCause::webhook_active:
      return "webhook_active";
    default:
      return "unknown";
  }
}

BotApi::BotApi(http::Client& client, std::string base, std::string token)
    : client_(client), base_(std::move(base)), token_(std::move(token)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

net::awaitable<Answer> BotApi::call(std::string_view method, std::string json_body, std::chrono::milliseconds timeout) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = base_ + "/bot" + token_ + "/" + std::string(method);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::move(json_body);
  request.timeout = timeout;
  std::optional<http::Response> response;
  Answer failed;
  try {
    response = co_await client_.send(std::move(request));
  } catch (const http::ClientError& e) {
    failed.description = e.what();
  }
  if (!response) co_return failed;
  co_return classify(std::move(*response));
}

}  // namespace kiebot::ingress
