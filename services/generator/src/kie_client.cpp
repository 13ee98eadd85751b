// KIE client (see kie_client.hpp): the requests; kie_answers.cpp sorts the answers.
#include "kie_client.hpp"

#include "kiebot/http/client.hpp"

namespace kiebot::generator {

using nlohmann::json;

KieClient::KieClient(http::Client& client, std::string base, std::string key, std::chrono::milliseconds create_timeout)
    : client_(client), base_(std::move(base)), key_(std::move(key)), create_timeout_(create_timeout) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

KieApi kie_api_named(std::string_view name) {
  return name == "suno" ? KieApi::suno : KieApi::market;
}

net::awaitable<Submitted> KieClient::create_task(KieApi api, std::string model, json input, std::string callback_url) {
  json body;
  if (api == KieApi::suno) {
    // Suno: the input's fields are the body (its `model` is the version).
    body = input.is_object() ? std::move(input) : json::object();
  } else {
    body = {{"model", std::move(model)}, {"input", std::move(input)}};
  }
  if (!callback_url.empty()) body["callBackUrl"] = callback_url;
  http::ClientRequest request;
  request.method = "POST";
  request.url = base_ + (api == KieApi::suno ? "/api/v1/generate" : "/api/v1/jobs/createTask");
  request.headers = {{"Authorization", "Bearer " + key_}, {"Content-Type", "application/json"}};
  request.body = body.dump();
  request.timeout = create_timeout_;
  Submitted failed;
  std::optional<http::Response> response;
  try {
    response = co_await client_.send(std::move(request));
  } catch (const http::ClientError& e) {
    // Never retried when KIE may have received it: a second paid task is
    // worse than a failed job whose hold is released.
    failed.kind = e.maybe_sent() ? Submitted::Kind::ambiguous : Submitted::Kind::retry;
    failed.message = e.what();
  }
  if (!response) co_return failed;
  co_return classify_create(response->status, response->body);
}

net::awaitable<TaskState> KieClient::record_info(KieApi api, std::string task_id) {
  http::ClientRequest request;
  request.method = "GET";
  request.url = base_ + (api == KieApi::suno ? "/api/v1/generate/record-info?taskId=" : "/api/v1/jobs/recordInfo?taskId=") +
                http::percent_encode(task_id);
  request.headers = {{"Authorization", "Bearer " + key_}};
  request.timeout = std::chrono::seconds(15);
  TaskState failed;
  std::optional<http::Response> response;
  try {
    response = co_await client_.send(std::move(request));
  } catch (const http::ClientError& e) {
    failed.error = e.what();
  }
  if (!response) co_return failed;
  co_return api == KieApi::suno ? parse_suno_record(response->status, response->body)
                                : parse_record_info(response->status, response->body);
}

}  // namespace kiebot::generator
