// The status answers of KIE's API families besides the market and Suno
// (see kie_answers.hpp): Veo 3.1, 4o Image, Flux Kontext and Midjourney
// answer a successFlag, Runway a state of its own. Pure, like kie_answers.cpp.
#include "kie_answers.hpp"
#include "kie_task_data.hpp"
#include "kiebot/base/json.hpp"

namespace kiebot::generator {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxResults = 10;

void add_url(TaskState& t, const json& value) {
  if (value.is_string() && !value.get_ref<const std::string&>().empty() && t.result_urls.size() < kMaxResults) {
    t.result_urls.push_back(value.get<std::string>());
  }
}

// An array of URLs, or (one version of Veo's schema) a string holding one.
void add_urls(TaskState& t, const json& value) {
  if (value.is_string()) {
    auto inner = parse_untrusted(value.get<std::string>());
    if (inner.is_array()) return add_urls(t, inner);
    return add_url(t, value);
  }
  if (!value.is_array()) return;
  for (const auto& u : value) add_url(t, u);
}

const json& member(const json& j, const char* name) {
  static const json absent;
  return j.is_object() && j.contains(name) ? j[name] : absent;
}

// successFlag 0: generating; 1: success (`results` reads the URLs); 2, 3: failed.
template <class Results>
TaskState parse_flagged(int http_status, const std::string& body, const char* what, Results results) {
  TaskState t;
  auto j = parse_untrusted(body);
  const auto* data = detail::task_data(http_status, j, t, what);
  if (data == nullptr) return t;
  const auto& d = *data;
  auto flag = int_field(d, "successFlag", 0);
  t.state = "successFlag " + std::to_string(flag);
  if (flag == 0) {
    t.kind = TaskState::Kind::pending;
  } else if (flag == 1) {
    t.kind = TaskState::Kind::success;
    results(d, t);
    if (t.result_urls.empty()) {
      t.kind = TaskState::Kind::fail;
      t.fail_code = "no_result";
      t.fail_message = "the task succeeded without result URLs";
    }
  } else {
    t.kind = TaskState::Kind::fail;
    auto code = int_field(d, "errorCode", 0);
    t.fail_code = code != 0 ? std::to_string(code) : (flag == 2 ? "create_task_failed" : "generate_failed");
    t.fail_message = string_field(d, "errorMessage");
  }
  return t;
}

}  // namespace

TaskState parse_veo_record(int http_status, const std::string& body) {
  return parse_flagged(http_status, body, "veo record-info",
                       [](const json& d, TaskState& t) { add_urls(t, member(member(d, "response"), "resultUrls")); });
}

TaskState parse_gpt4o_image_record(int http_status, const std::string& body) {
  return parse_flagged(http_status, body, "4o image record-info", [](const json& d, TaskState& t) {
    // The schema says resultUrls, the quickstart's examples result_urls.
    const auto& r = member(d, "response");
    add_urls(t, member(r, "resultUrls"));
    if (t.result_urls.empty()) add_urls(t, member(r, "result_urls"));
  });
}

TaskState parse_flux_kontext_record(int http_status, const std::string& body) {
  // resultImageUrl is KIE's copy (kept 14 days); originImageUrl lasts 10 minutes.
  return parse_flagged(http_status, body, "flux kontext record-info", [](const json& d, TaskState& t) {
    add_url(t, member(member(d, "response"), "resultImageUrl"));
  });
}

TaskState parse_midjourney_record(int http_status, const std::string& body) {
  return parse_flagged(http_status, body, "mj record-info", [](const json& d, TaskState& t) {
    const auto& urls = member(member(d, "resultInfoJson"), "resultUrls");
    if (!urls.is_array()) return;
    for (const auto& u : urls) add_url(t, member(u, "resultUrl"));
  });
}

TaskState parse_runway_record(int http_status, const std::string& body) {
  TaskState t;
  auto j = parse_untrusted(body);
  const auto* data = detail::task_data(http_status, j, t, "runway record-detail");
  if (data == nullptr) return t;
  const auto& d = *data;
  t.state = string_field(d, "state");
  if (t.state == "success") {
    t.kind = TaskState::Kind::success;
    add_url(t, member(member(d, "videoInfo"), "videoUrl"));
    if (t.result_urls.empty()) {
      t.kind = TaskState::Kind::fail;
      t.fail_code = "no_result";
      t.fail_message = "the task succeeded without a video URL";
    }
  } else if (t.state == "fail") {
    t.kind = TaskState::Kind::fail;
    auto code = int_field(d, "failCode", 0);
    t.fail_code = code != 0 ? std::to_string(code) : "fail";
    t.fail_message = string_field(d, "failMsg");
  } else {
    t.kind = TaskState::Kind::pending;  // wait, queueing, generating
  }
  return t;
}

}  // namespace kiebot::generator
