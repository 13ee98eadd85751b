// KIE's answers sorted (see kie_answers.hpp), apart from the I/O so that unit
// tests and fuzz/ call them directly. KIE answers errors as HTTP 200 with a
// non-200 "code" in the body, except a bad key (HTTP 401).
#include "kie_answers.hpp"
#include "kie_task_data.hpp"
#include "kiebot/base/json.hpp"

namespace kiebot::generator {

using nlohmann::json;

namespace {

// KIE's answers are outside input: a field of another type (or null) reads
// as absent, never as a type_error that would end the job's step.
std::string text_of(const json& j, const char* name) {
  return string_field(j, name);
}

int code_of(const json& j, int fallback) {
  auto code = int_field(j, "code", fallback);
  return code >= -100'000 && code <= 100'000 ? static_cast<int>(code) : fallback;
}

}  // namespace

Submitted classify_create(int http_status, const std::string& body) {
  Submitted s;
  auto j = parse_untrusted(body);
  int code = j.is_object() ? code_of(j, http_status) : http_status;
  s.code = code;
  if (j.is_object()) s.message = text_of(j, "msg");
  if (http_status == 401 || code == 401) {
    s.kind = Submitted::Kind::unauthorized;
  } else if (code == 200 && j.is_object() && j.contains("data") && !string_field(j["data"], "taskId").empty()) {
    // (An empty taskId names no task: recordInfo could never find it.)
    s.kind = Submitted::Kind::created;
    s.task_id = string_field(j["data"], "taskId");
  } else if (code == 402) {
    s.kind = Submitted::Kind::no_credits;
  } else if (code == 429 || code == 455 || code >= 500) {
    s.kind = Submitted::Kind::retry;
  } else if (http_status >= 500) {
    s.kind = Submitted::Kind::retry;
  } else {
    // 422, other 4xx, or a 200 without a task id: KIE refused what we sent.
    s.kind = Submitted::Kind::rejected;
  }
  if (s.message.empty()) s.message = "HTTP " + std::to_string(http_status);
  return s;
}

namespace detail {

const json* task_data(int http_status, const json& j, TaskState& t, const char* what) {
  int code = j.is_object() ? code_of(j, 0) : 0;
  if (http_status == 200 && (code == 404 || code == 422 || code == 501)) {
    // The task is unknown to KIE or was refused: polling on would only reach the deadline.
    t.kind = TaskState::Kind::fail;
    t.fail_code = "kie_" + std::to_string(code);
    t.fail_message = std::string(what) + " answered " + std::to_string(code) + ": " + text_of(j, "msg");
    return nullptr;
  }
  if (http_status == 200 && code == 200 && j.contains("data") && j["data"].is_null()) {
    t.kind = TaskState::Kind::fail;
    t.fail_code = "no_data";
    t.fail_message = std::string(what) + " answered without the task's data";
    return nullptr;
  }
  if (http_status != 200 || code != 200 || !j.contains("data") || !j["data"].is_object()) {
    t.error = std::string(what) + ": HTTP " + std::to_string(http_status) + (j.is_object() ? " " + text_of(j, "msg") : "");
    return nullptr;
  }
  const auto& d = j["data"];
  // The request as KIE recorded it: `param` (market, Suno) or `paramJson`.
  auto param = parse_untrusted(text_of(d, d.contains("param") ? "param" : "paramJson"));
  if (param.is_object()) t.callback_url = text_of(param, "callBackUrl");
  return &d;
}

}  // namespace detail

using detail::task_data;

TaskState parse_suno_record(int http_status, const std::string& body) {
  TaskState t;
  auto j = parse_untrusted(body);
  const auto* d = task_data(http_status, j, t, "record-info");
  if (d == nullptr) return t;
  t.state = text_of(*d, "status");
  if (t.state == "SUCCESS") {
    t.kind = TaskState::Kind::success;
    if (d->contains("response") && (*d)["response"].is_object()) {
      const auto& r = (*d)["response"];
      if (r.contains("sunoData") && r["sunoData"].is_array()) {
        for (const auto& track : r["sunoData"]) {
          auto url = track.is_object() ? string_field(track, "audioUrl") : "";
          if (url.empty() || t.result_urls.size() >= 10) continue;
          t.result_urls.push_back(std::move(url));
          auto seconds = track.contains("duration") && track["duration"].is_number() ? track["duration"].get<double>() : 0;
          t.result_info.push_back({string_field(track, "title"), string_field(track, "imageUrl"),
                                   seconds > 0 && seconds < 86'400 ? static_cast<std::int64_t>(seconds + 0.5) : 0});
        }
      }
    }
    if (t.result_urls.empty()) {
      t.kind = TaskState::Kind::fail;
      t.fail_code = "no_result";
      t.fail_message = "the task succeeded without tracks";
    }
  } else if (t.state.ends_with("_FAILED") || t.state == "CALLBACK_EXCEPTION" || t.state == "SENSITIVE_WORD_ERROR") {
    t.kind = TaskState::Kind::fail;
    t.fail_code = t.state;
    t.fail_message = text_of(*d, "errorMessage");
  } else {
    t.kind = TaskState::Kind::pending;  // PENDING, TEXT_SUCCESS, FIRST_SUCCESS
  }
  return t;
}

TaskState parse_record_info(int http_status, const std::string& body) {
  TaskState t;
  auto j = parse_untrusted(body);
  const auto* data = task_data(http_status, j, t, "recordInfo");
  if (data == nullptr) return t;
  const auto& d = *data;
  t.state = text_of(d, "state");
  if (d.contains("costTime") && d["costTime"].is_number_integer()) t.cost_time_ms = d["costTime"].get<std::int64_t>();
  if (t.state == "success") {
    t.kind = TaskState::Kind::success;
    auto result = parse_untrusted(text_of(d, "resultJson"));
    if (result.is_object() && result.contains("resultUrls") && result["resultUrls"].is_array()) {
      for (const auto& u : result["resultUrls"]) {
        if (u.is_string() && t.result_urls.size() < 10) t.result_urls.push_back(u.get<std::string>());
      }
    }
    if (t.result_urls.empty()) {
      t.kind = TaskState::Kind::fail;
      t.fail_code = "no_result";
      t.fail_message = "the task succeeded without result URLs";
    }
  } else if (t.state == "fail") {
    t.kind = TaskState::Kind::fail;
    if (d.contains("failCode") && !d["failCode"].is_null()) {
      t.fail_code = d["failCode"].is_string() ? d["failCode"].get<std::string>() : d["failCode"].dump();
    }
    t.fail_message = text_of(d, "failMsg");
  } else {
    t.kind = TaskState::Kind::pending;
  }
  return t;
}

std::string callback_task_id(std::string_view body) {
  auto j = parse_untrusted(body);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_object()) return {};
  auto id = string_field(j["data"], "taskId");
  if (id.empty()) id = string_field(j["data"], "task_id");
  return id.substr(0, 128);
}

}  // namespace kiebot::generator
