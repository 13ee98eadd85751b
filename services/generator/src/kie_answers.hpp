// KIE's answers (createTask, recordInfo, completion callbacks) sorted into
// what the generator must do next: pure, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiebot::generator {

struct Submitted {
  enum class Kind {
    created,     // task_id is set
    retry,       // 429, 455, 500, 5xx, or not sent at all: try again later
    no_credits,  // 402: KIE's account is empty
    rejected,    // 422 or another 4xx: our input is wrong
    ambiguous,   // the request may have reached KIE, but no answer came
    unauthorized,
  };
  Kind kind = Kind::retry;
  int code = 0;  // KIE's code (HTTP status when there is no body code)
  std::string task_id;
  std::string message;
};

// What an API says about one result beyond its URL (Suno's tracks).
struct ResultInfo {
  std::string title;
  std::string cover_url;  // an image to show with it
  std::int64_t duration_s = 0;
};

struct TaskState {
  enum class Kind { pending, success, fail, unknown };
  Kind kind = Kind::unknown;
  std::string state;  // waiting, queuing, generating, success, fail
  std::vector<std::string> result_urls;
  std::vector<ResultInfo> result_info;  // empty, or one per result URL
  std::string fail_code;
  std::string fail_message;
  std::int64_t cost_time_ms = 0;
  std::string error;  // why the check itself failed (Kind::unknown)
  std::string callback_url;  // the callBackUrl the task was created with
};

// Sorting, pure (unit tests and fuzz/ call it without sockets).
Submitted classify_create(int http_status, const std::string& body);
// The market's recordInfo: data.state waiting|queuing|generating|success|fail,
// results in data.resultJson's resultUrls.
TaskState parse_record_info(int http_status, const std::string& body);
// Suno's record-info: data.status PENDING|TEXT_SUCCESS|FIRST_SUCCESS|SUCCESS
// or a failure (CREATE_TASK_FAILED, GENERATE_AUDIO_FAILED, CALLBACK_EXCEPTION,
// SENSITIVE_WORD_ERROR); the tracks' audioUrl in data.response.sunoData,
// with their title, imageUrl (the cover) and duration.
TaskState parse_suno_record(int http_status, const std::string& body);

// The families whose status answers carry data.successFlag (0 generating,
// 1 success, 2 failed, 3 created but generation failed) and errorCode /
// errorMessage (kie_family_answers.cpp):
// - Veo 3.1 (veo/record-info): the videos in data.response.resultUrls;
// - 4o Image (gpt4o-image/record-info): data.response.resultUrls (or result_urls);
// - Flux Kontext (flux/kontext/record-info): data.response.resultImageUrl;
// - Midjourney (mj/record-info): data.resultInfoJson.resultUrls[].resultUrl.
TaskState parse_veo_record(int http_status, const std::string& body);
TaskState parse_gpt4o_image_record(int http_status, const std::string& body);
TaskState parse_flux_kontext_record(int http_status, const std::string& body);
TaskState parse_midjourney_record(int http_status, const std::string& body);
// Runway (runway/record-detail): data.state wait|queueing|generating|success|fail,
// the video in data.videoInfo.videoUrl, failCode / failMsg.
TaskState parse_runway_record(int http_status, const std::string& body);

// The task id a completion callback's body names ({"data":{"taskId":...}},
// or Suno's {"data":{"task_id":...}}; cut to 128 bytes), "" when it names none. Only a hint: the task is
// verified through recordInfo.
std::string callback_task_id(std::string_view body);

}  // namespace kiebot::generator
