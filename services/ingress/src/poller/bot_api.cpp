// Bot API calls (see bot_api.hpp); bot_answer.cpp sorts their answers.
#include "bot_api.hpp"

#include "kiebot/http/client.hpp"

namespace kiebot::ingress {

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
