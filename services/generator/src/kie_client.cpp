// KIE client (see kie_client.hpp): the requests; kie_answers.cpp sorts the answers.
#include "kie_client.hpp"

#include "kiebot/http/client.hpp"

namespace kiebot::generator {

using nlohmann::json;

KieClient::KieClient(http::Client& client, std::string base, std::string key, std::chrono::milliseconds create_timeout)
    : client_(client), base_(std::move(base)), key_(std::move(key)), create_timeout_(create_timeout) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

namespace {

// docs.kie.ai: market/common (createTask, recordInfo), suno-api, veo3-api,
// runway-api, 4o-image-api, flux-kontext-api, mj-api.
constexpr KieFamily kFamilies[] = {
    {KieApi::market, "market", "/api/v1/jobs/createTask", "/api/v1/jobs/recordInfo", true, false, parse_record_info},
    {KieApi::suno, "suno", "/api/v1/generate", "/api/v1/generate/record-info", false, true, parse_suno_record},
    {KieApi::veo, "veo", "/api/v1/veo/generate", "/api/v1/veo/record-info", false, false, parse_veo_record},
    {KieApi::runway, "runway", "/api/v1/runway/generate", "/api/v1/runway/record-detail", false, true,
     parse_runway_record},
    {KieApi::gpt4o_image, "gpt4o_image", "/api/v1/gpt4o-image/generate", "/api/v1/gpt4o-image/record-info", false,
     false, parse_gpt4o_image_record},
    {KieApi::flux_kontext, "flux_kontext", "/api/v1/flux/kontext/generate", "/api/v1/flux/kontext/record-info", false,
     false, parse_flux_kontext_record},
    {KieApi::midjourney, "midjourney", "/api/v1/mj/generate", "/api/v1/mj/record-info", false, false,
     parse_midjourney_record},
};

}  // namespace

const KieFamily& kie_family(KieApi api) {
  for (const auto& f : kFamilies) {
    if (f.api == api) return f;
  }
  return kFamilies[0];
}

std::optional<KieApi> kie_api_named(std::string_view name) {
  for (const auto& f : kFamilies) {
    if (f.name == name) return f.api;
  }
  return std::nullopt;
}

net::awaitable<Submitted> KieClient::create_task(KieApi api, std::string model, json input, std::string callback_url) {
  const auto& family = kie_family(api);
  json body;
  if (family.wraps_input) {
    body = {{"model", std::move(model)}, {"input", std::move(input)}};
  } else {
    // The input's fields are the body (a `model` among them is the family's
    // own: Suno's version, Veo's tier, Flux Kontext's pro or max).
    body = input.is_object() ? std::move(input) : json::object();
  }
  if (!callback_url.empty()) body["callBackUrl"] = callback_url;
  http::ClientRequest request;
  request.method = "POST";
  request.url = base_ + std::string(family.create_path);
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
  const auto& family = kie_family(api);
  http::ClientRequest request;
  request.method = "GET";
  request.url = base_ + std::string(family.status_path) + "?taskId=" + http::percent_encode(task_id);
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
  co_return family.parse(response->status, response->body);
}

}  // namespace kiebot::generator
