// KIE's answers sorted (see kie_answers.hpp), apart from the I/O so that unit
// tests and fuzz/ call them directly. KIE answers errors as HTTP 200 with a
// non-200 "code" in the body, except a bad key (HTTP 401).
#include "kie_answers.hpp"
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

TaskState parse_record_info(int http_status, const std::string& body) {
  TaskState t;
  auto j = parse_untrusted(body);
  int code = j.is_object() ? code_of(j, 0) : 0;
  if (http_status == 200 && (code == 404 || code == 422 || code == 501)) {
    // The task is unknown to KIE or was refused: polling on would only reach the deadline.
    t.kind = TaskState::Kind::fail;
    t.fail_code = "kie_" + std::to_string(code);
    t.fail_message = "recordInfo answered " + std::to_string(code) + ": " + text_of(j, "msg");
    return t;
  }
  if (http_status == 200 && code == 200 && j.contains("data") && j["data"].is_null()) {
    t.kind = TaskState::Kind::fail;
    t.fail_code = "no_data";
    t.fail_message = "recordInfo answered without the task's data";
    return t;
  }
  if (http_status != 200 || code != 200 || !j.contains("data") || !j["data"].is_object()) {
    t.error = "recordInfo: HTTP " + std::to_string(http_status) + (j.is_object() ? " " + text_of(j, "msg") : "");
    return t;
  }
  const auto& d = j["data"];
  t.state = text_of(d, "state");
  auto param = parse_untrusted(text_of(d, "param"));
  if (param.is_object()) t.callback_url = text_of(param, "callBackUrl");
  if (d.contains("costTime") && d["costTime"].is_number_integer()) t.cost_time_ms = d["costTime"].get<std::int64_t>();
  if (t.state == "success") {
    t.kind = TaskState::Kind::success;
    auto result = parse_untrusted(text_of(d, "resultJson"));
    if (result.is_object() && result.contains("resultUrls") && result["resultUrls"].is_array()) {
      for (const auto& u : result["resultUrls"]) {
        if (u.is_string()) t.result_urls.push_back(u.get<std::string>());
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
  return string_field(j["data"], "taskId").substr(0, 128);
}

}  // namespace kiebot::generator
