// KIE API emulator. Shapes follow docs.kie.ai (market "createTask",
// "recordInfo", callbacks, "Get Remaining Credits", "Get Download URL",
// file upload API): errors are HTTP 200 with a non-200 `code` in the body.
#include "emulator.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <openssl/hmac.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <random>

#include "catalog.hpp"
#include "emulator_state.hpp"
#include "kiebot/base/base64.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/http/health.hpp"
#include "media.hpp"

namespace kiebot::kie {

namespace detail {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

http::Response kie(int code, std::string msg, json data) {
  json body = {{"code", code}, {"msg", std::move(msg)}};
  if (!data.is_null()) body["data"] = std::move(data);
  return http::Response::json(200, body);
}

bool authorized(const State& st, const http::Request& r) {
  auto header = r.header("authorization");
  if (!header || !header->starts_with("Bearer ")) return false;
  auto key = header->substr(7);
  for (const auto& k : st.options.keys) {
    if (k == key) return true;
  }
  return false;
}

http::Response unauthorized() {
  return http::Response::json(401, {{"code", 401}, {"msg", "You do not have access permissions"}});
}

std::string base_url(const State& st, const http::Request& r) {
  if (!st.options.public_url.empty()) return st.options.public_url;
  return "http://" + std::string(r.header("host").value_or("127.0.0.1"));
}

// KIE's webhook signature: base64(HMAC-SHA256(key, task_id + "." + timestamp)).
std::string webhook_signature(const std::string& key, const std::string& task_id, const std::string& timestamp) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  auto data = task_id + "." + timestamp;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &length);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

net::awaitable<bool> deliver_once(std::shared_ptr<State> st, std::string url, std::string body, std::string task_id) {
  http::ClientRequest request{
      "POST", url, {{"Content-Type", "application/json"}}, std::move(body), std::chrono::seconds(10)};
  if (!st->options.webhook_hmac_key.empty()) {
    auto timestamp = std::to_string(now_ms() / 1000);
    request.headers.emplace_back("X-Webhook-Timestamp", timestamp);
    request.headers.emplace_back("X-Webhook-Signature", webhook_signature(st->options.webhook_hmac_key, task_id, timestamp));
  }
  try {
    auto response = co_await st->client->send(std::move(request));
    co_return response.status >= 200 && response.status < 300;
  } catch (const std::exception& e) {
    log::warn("callback_failed", {{"url", url}, {"error", e.what()}});
    co_return false;
  }
}

// One delivery and up to three retries with doubling delays.
net::awaitable<void> deliver(std::shared_ptr<State> st, std::string url, std::string body, std::string task_id) {
  net::steady_timer wait(st->executor);
  auto delay = std::chrono::milliseconds(st->config.callback_retry_ms);
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (attempt > 0) {
      wait.expires_after(delay);
      co_await wait.async_wait(net::use_awaitable);
      delay *= 2;
    }
    if (co_await deliver_once(st, url, body, task_id)) {
      ++st->callbacks_sent;
      co_return;
    }
    ++st->callbacks_failed;
  }
  log::warn("callback_abandoned", {{"url", url}});
}

std::optional<http::Response> refuse_new_task(State& st) {
  auto& cfg = st.config;
  if (cfg.maintenance) return kie(455, "Service is under maintenance, please try again later");
  if (cfg.fail_next_count > 0) {
    --cfg.fail_next_count;
    return kie(cfg.fail_next_code, cfg.fail_next_code == 505 ? "This feature is disabled" : "Server error, please retry");
  }
  auto now = now_ms();
  while (!st.recent_creates.empty() && st.recent_creates.front() <= now - 10'000) st.recent_creates.pop_front();
  if (cfg.rate_limit && st.recent_creates.size() >= 20) {
    return kie(429, "Rate limited: at most 20 new tasks per 10 seconds");
  }
  return std::nullopt;
}

Task& new_task(State& st, const http::Request& r, std::string model, std::string output, json request,
               std::string callback) {
  char id[40];
  std::snprintf(id, sizeof id, "task_%llx%06llu", static_cast<unsigned long long>(st.rng() & 0xffffffff),
                static_cast<unsigned long long>(st.next_id++));
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  auto files_base = st.config.result_base_url.empty() ? base_url(st, r) : st.config.result_base_url;
  auto now = now_ms();
  st.recent_creates.push_back(now);
  ++st.tasks_created;
  ++st.by_model[model];
  Task task{id, std::move(model), std::move(output), std::move(request), std::move(callback), files_base, "waiting",
            coin(st.rng) < st.config.failure_rate, now, 0};
  auto& stored = st.tasks[task.id];
  stored = std::move(task);
  return stored;
}

}  // namespace detail

using namespace detail;

namespace {

std::string result_url(const Task& t) {
  return t.base_url + "/files/" + t.id + "-result." + std::string(extension_for(t.output));
}

json record(const Task& t) {
  json data = {{"taskId", t.id},          {"model", t.model},
               {"state", t.state},        {"param", t.request.dump()},
               {"resultJson", ""},        {"failCode", ""},
               {"failMsg", ""},           {"costTime", 0},
               {"completeTime", nullptr}, {"createTime", t.created_ms}};
  if (t.state == "success") {
    json result = {{"resultUrls", {result_url(t)}}};
    data["resultJson"] = result.dump();
  } else if (t.state == "fail") {
    data["failCode"] = t.fail_code.empty() ? "500" : t.fail_code;
    data["failMsg"] = t.fail_code.empty() ? "Internal server error: generation failed" : t.fail_msg;
  }
  if (t.completed_ms != 0) {
    data["completeTime"] = t.completed_ms;
    data["costTime"] = t.completed_ms - t.created_ms;
  }
  return data;
}

// Completion callback, as KIE posts it to callBackUrl.
json callback_body(const Task& t) {
  bool ok = t.state == "success";
  return {{"code", ok ? 200 : 501},
          {"msg", ok ? "Playground task completed successfully." : "Playground task failed."},
          {"data", record(t)}};
}

net::awaitable<void> run_task(std::shared_ptr<State> st, std::string id) {
  net::steady_timer wait(st->executor);
  const std::pair<const char*, std::int64_t*> steps[] = {{"queuing", &st->config.waiting_ms},
                                                         {"generating", &st->config.queuing_ms}};
  for (const auto& [next, ms] : steps) {
    wait.expires_after(std::chrono::milliseconds(*ms));
    co_await wait.async_wait(net::use_awaitable);
    st->tasks[id].state = next;
  }
  wait.expires_after(std::chrono::milliseconds(st->config.generating_ms));
  co_await wait.async_wait(net::use_awaitable);
  auto& task = st->tasks[id];
  task.state = task.will_fail ? "fail" : "success";
  task.completed_ms = now_ms();
  if (task.callback_url.empty() || st->config.callback_mode == "drop") co_return;
  auto body = callback_body(task).dump();
  auto url = task.callback_url;
  int copies = st->config.callback_mode == "duplicate" ? 2 : 1;
  for (int i = 0; i < copies; ++i) co_await deliver(st, url, body, id);
}

http::Response create_task(const std::shared_ptr<State>& st, const http::Request& r) {
  if (!authorized(*st, r)) return unauthorized();
  if (auto refused = refuse_new_task(*st)) return *refused;
  auto& cfg = st->config;
  auto body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return kie(422, "Invalid JSON body");
  if (!body.contains("model") || !body["model"].is_string()) return kie(422, "model is required");
  const auto* model = find_model(body["model"].get<std::string>());
  if (model == nullptr || model->api != "market") return kie(422, "The model " + body["model"].dump() + " is not supported");
  if (!body.contains("input")) return kie(422, "input is required");
  if (auto problem = validate_input(*model, body["input"])) return kie(422, *problem);
  std::string callback;
  if (body.contains("callBackUrl") && !body["callBackUrl"].is_null()) {
    if (!body["callBackUrl"].is_string() || !http::Url::parse(body["callBackUrl"].get<std::string>())) {
      return kie(422, "callBackUrl must be an http(s) URL");
    }
    callback = body["callBackUrl"].get<std::string>();
  }
  if (cfg.credits < model->credits) return kie(402, "The current credits are insufficient. Please top up.");
  cfg.credits -= model->credits;
  auto gone = gone_upload(*st, base_url(*st, r), body["input"]);
  auto& task = new_task(*st, r, model->id, model->output, body, callback);
  if (gone) {
    // KIE fetches a task's input files when it runs it: a deleted upload
    // fails the task, not createTask (451: the file could not be fetched).
    task.will_fail = true;
    task.fail_code = "451";
    task.fail_msg = "Failed to fetch the file: " + *gone;
  }
  st->background->spawn(task.id, run_task(st, task.id));
  return kie(200, "success", {{"taskId", task.id}});
}

http::Response record_info(const std::shared_ptr<State>& st, const http::Request& r) {
  if (!authorized(*st, r)) return unauthorized();
  ++st->record_info_calls;
  auto id = r.query("taskId");
  if (!id || id->empty()) return kie(422, "taskId is required");
  auto it = st->tasks.find(*id);
  if (it == st->tasks.end()) return kie(422, "recordInfo is null: no task " + *id);
  return kie(200, "success", record(it->second));
}

// createTask, answered late when slow_next_create says so (the task exists either way).
net::awaitable<http::Response> create_task_answer(std::shared_ptr<State> st, http::Request r) {
  auto response = create_task(st, r);
  auto& cfg = st->config;
  if (response.status == 200 && cfg.slow_next_count > 0) {
    --cfg.slow_next_count;
    net::steady_timer late(co_await net::this_coro::executor, std::chrono::milliseconds(cfg.slow_next_ms));
    co_await late.async_wait(net::as_tuple(net::use_awaitable));
  }
  co_return response;
}

http::Response control_config(const std::shared_ptr<State>& st, const http::Request& r) {
  auto& c = st->config;
  if (r.method == "POST") {
    auto body = r.json();
    if (body.contains("latency_ms")) {
      const auto& l = body["latency_ms"];
      c.waiting_ms = l.value("waiting", c.waiting_ms);
      c.queuing_ms = l.value("queuing", c.queuing_ms);
      c.generating_ms = l.value("generating", c.generating_ms);
    }
    c.failure_rate = body.value("failure_rate", c.failure_rate);
    c.credits = body.value("credits", c.credits);
    c.rate_limit = body.value("rate_limit", c.rate_limit);
    c.maintenance = body.value("maintenance", c.maintenance);
    c.result_size = body.value("result_size", c.result_size);
    if (body.contains("result_dimensions")) {
      const auto& d = body["result_dimensions"];
      c.result_width = std::clamp<std::uint32_t>(d.value("width", 1u), 1, 20'000);
      c.result_height = std::clamp<std::uint32_t>(d.value("height", 1u), 1, 20'000);
    }
    c.cover_px = std::clamp<std::uint32_t>(body.value("cover_px", c.cover_px), 8, 4096);
    c.callback_retry_ms = body.value("callback_retry_ms", c.callback_retry_ms);
    c.result_base_url = body.value("result_base_url", c.result_base_url);
    if (body.contains("callback_mode")) {
      auto mode = body["callback_mode"].get<std::string>();
      if (mode != "normal" && mode != "duplicate" && mode != "drop") {
        throw http::BadRequest{400, "invalid_field", "callback_mode must be normal, duplicate or drop"};
      }
      c.callback_mode = mode;
    }
    if (body.contains("fail_next_create")) {
      c.fail_next_code = body["fail_next_create"].at("code").get<int>();
      c.fail_next_count = body["fail_next_create"].value("count", 1);
    }
    if (body.contains("slow_next_create")) {
      c.slow_next_ms = body["slow_next_create"].at("ms").get<std::int64_t>();
      c.slow_next_count = body["slow_next_create"].value("count", 1);
    }
    if (body.value("reset_rate_window", false)) st->recent_creates.clear();
    c.upload_ttl_ms = body.value("upload_ttl_ms", c.upload_ttl_ms);
    if (body.value("expire_uploads", false)) expire_uploads(*st, true);
  }
  json out = {{"latency_ms", {{"waiting", c.waiting_ms}, {"queuing", c.queuing_ms}, {"generating", c.generating_ms}}},
              {"failure_rate", c.failure_rate},
              {"credits", c.credits},
              {"rate_limit", c.rate_limit},
              {"maintenance", c.maintenance},
              {"result_size", c.result_size},
              {"result_dimensions", {{"width", c.result_width}, {"height", c.result_height}}},
              {"cover_px", c.cover_px},
              {"callback_mode", c.callback_mode},
              {"callback_retry_ms", c.callback_retry_ms},
              {"result_base_url", c.result_base_url},
              {"upload_ttl_ms", c.upload_ttl_ms},
              {"fail_next_create", {{"code", c.fail_next_code}, {"count", c.fail_next_count}}},
              {"slow_next_create", {{"ms", c.slow_next_ms}, {"count", c.slow_next_count}}}};
  return http::Response::json(200, out);
}

}  // namespace

http::Router make_router(TaskGroup& background, net::any_io_executor executor, EmulatorOptions options) {
  auto st = std::make_shared<State>();
  st->executor = executor;
  st->background = &background;
  st->options = std::move(options);
  st->client = std::make_unique<http::Client>(executor);
  http::Router router;
  add_health_routes(router, nullptr);
  router.add("POST", "/api/v1/jobs/createTask",
             http::Handler([st](http::Request r) { return create_task_answer(st, std::move(r)); }));
  router.add("GET", "/api/v1/jobs/recordInfo",
             http::SyncHandler([st](const http::Request& r) { return record_info(st, r); }));
  add_suno_routes(router, st);
  add_family_routes(router, st);
  router.add("GET", "/api/v1/chat/credit", http::SyncHandler([st](const http::Request& r) {
               return authorized(*st, r) ? kie(200, "success", st->config.credits) : unauthorized();
             }));
  router.add("POST", "/api/v1/common/download-url",
             http::SyncHandler([st](const http::Request& r) { return download_url(st, r); }));
  router.add("POST", "/api/file-base64-upload",
             http::SyncHandler([st](const http::Request& r) { return upload_base64(st, r); }));
  router.add("GET", "/files/{name}", http::SyncHandler([st](const http::Request& r) { return file(st, r); }));
  router.add("GET", "/control/config",
             http::SyncHandler([st](const http::Request& r) { return control_config(st, r); }));
  router.add("POST", "/control/config",
             http::SyncHandler([st](const http::Request& r) { return control_config(st, r); }));
  router.add("GET", "/control/stats", http::SyncHandler([st](const http::Request&) {
               json by_model = st->by_model;
               json out = {{"tasks_created", st->tasks_created},
                           {"by_model", by_model},
                           {"callbacks_sent", st->callbacks_sent},
                           {"callbacks_failed", st->callbacks_failed},
                           {"record_info_calls", st->record_info_calls},
                           {"uploads_stored", st->uploads.size()},
                           {"uploads_made", st->uploads_made}};
               return http::Response::json(200, out);
             }));
  return router;
}

}  // namespace kiebot::kie
