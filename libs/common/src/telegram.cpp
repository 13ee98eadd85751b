// Bot API client (see telegram.hpp).
#include "kiebot/common/json.hpp"
#include "kiebot/common/telegram.hpp"

#include <random>

#include "kiebot/common/backoff.hpp"
#include "kiebot/common/http_client.hpp"
#include "kiebot/common/log.hpp"

namespace kiebot::telegram {

using nlohmann::json;

Client::Client(http::Client& client, std::string base, std::string token)
    : client_(client), base_(std::move(base)), token_(std::move(token)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

net::awaitable<Result> Client::send(http::ClientRequest request, std::chrono::seconds patience) {
  auto give_up = std::chrono::steady_clock::now() + patience;
  while (true) {
    Result r;
    std::optional<http::Response> response;
    try {
      response = co_await client_.send(request);
    } catch (const http::ClientError& e) {
      r.description = e.what();
    }
    if (!response) co_return r;
    r.status = response->status;
    auto body = parse_untrusted(response->body);
    if (body.is_object()) {
      r.ok = body.value("ok", false);
      r.description = body.value("description", "");
      if (body.contains("result")) r.result = body["result"];
    }
    if (r.status != 429) co_return r;
    std::int64_t wait_s = 1;
    if (body.is_object() && body.contains("parameters") && body["parameters"].is_object()) {
      wait_s = std::max<std::int64_t>(1, body["parameters"].value("retry_after", 1));
    }
    if (std::chrono::steady_clock::now() + std::chrono::seconds(wait_s) > give_up) co_return r;
    log::info("telegram_throttled", {{"retry_after_s", wait_s}});
    if (!co_await sleep_for(std::chrono::seconds(wait_s))) co_return r;
  }
}

std::string Client::file_url(std::string_view file_path) const {
  return base_ + "/file/bot" + token_ + "/" + std::string(file_path);
}

net::awaitable<Result> Client::call(std::string_view method, json params, std::chrono::seconds patience) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = base_ + "/bot" + token_ + "/" + std::string(method);
  request.headers = {{"Content-Type", "application/json"}};
  request.body = params.dump();
  request.timeout = std::chrono::seconds(60);  // Telegram fetches URLs before it answers
  co_return co_await send(std::move(request), patience);
}

net::awaitable<Result> Client::upload(std::string_view method, json params, std::string field, std::string filename,
                                      std::string content_type, std::string file) {
  static std::mt19937_64 rng{std::random_device{}()};
  auto boundary = "kiebot" + std::to_string(rng());
  std::string body;
  body.reserve(file.size() + 1024);
  for (auto& [k, v] : params.items()) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n";
    body += v.is_string() ? v.get<std::string>() : v.dump();
    body += "\r\n";
  }
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" + filename +
          "\"\r\nContent-Type: " + content_type + "\r\n\r\n";
  body += file;
  body += "\r\n--" + boundary + "--\r\n";
  http::ClientRequest request;
  request.method = "POST";
  request.url = base_ + "/bot" + token_ + "/" + std::string(method);
  request.headers = {{"Content-Type", "multipart/form-data; boundary=" + boundary}};
  request.body = std::move(body);
  request.timeout = std::chrono::seconds(120);
  co_return co_await send(std::move(request), std::chrono::seconds(30));
}

}  // namespace kiebot::telegram
