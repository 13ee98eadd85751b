// The KIE emulator's state and the helpers its files share (emulator.cpp:
// tasks, callbacks and the routes; files.cpp: result files and uploads).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "emulator.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/http/http.hpp"
#include "kiebot/runtime/task_group.hpp"

namespace kiebot::kie::detail {

using json = nlohmann::json;
using Clock = std::chrono::system_clock;

struct Config {
  std::int64_t waiting_ms = 200;
  std::int64_t queuing_ms = 300;
  std::int64_t generating_ms = 1000;
  double failure_rate = 0.0;
  std::int64_t credits = 100'000;
  bool rate_limit = true;
  bool maintenance = false;
  std::size_t result_size = 64 * 1024;
  // Image results' dimensions (1x1 unless set): beyond Telegram's photo limits to test them.
  std::uint32_t result_width = 1;
  std::uint32_t result_height = 1;
  // Suno covers' side in pixels (square JPEGs).
  std::uint32_t cover_px = 300;
  std::string callback_mode = "normal";  // normal | duplicate | drop
  int fail_next_code = 0;                // createTask answers this code...
  int fail_next_count = 0;               // ...this many times
  // createTask creates the task, then answers only after this long, this many
  // times: the caller's timeout leaves it not knowing (an ambiguous submit).
  std::int64_t slow_next_ms = 0;
  int slow_next_count = 0;
  std::int64_t callback_retry_ms = 200;  // first retry delay, doubling
  // Where new tasks' result URLs point instead of this emulator (empty: here):
  // a KIE that names an address it should not, for fetch-policy tests.
  std::string result_base_url;
  // How long an upload lives: KIE deletes uploads 3 days after they were made.
  std::int64_t upload_ttl_ms = 3LL * 24 * 3600 * 1000;
};

struct Task {
  std::string id;
  std::string model;
  std::string output;
  json request;  // what createTask received (the `param` of recordInfo)
  std::string callback_url;
  std::string base_url;  // where the result file is served
  std::string state = "waiting";
  bool will_fail = false;
  std::int64_t created_ms = 0;
  std::int64_t completed_ms = 0;
  // Why it fails (empty: a generation failure, failCode 500).
  std::string fail_code;
  std::string fail_msg;
};

struct Upload {
  std::string content_type;
  std::string bytes;
  std::int64_t uploaded_ms = 0;
};

struct State {
  net::any_io_executor executor;
  TaskGroup* background = nullptr;  // task runners: owned by main, joined at shutdown
  EmulatorOptions options;
  Config config;
  std::map<std::string, Task> tasks;
  std::map<std::string, Upload> uploads;
  std::deque<std::int64_t> recent_creates;
  std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t next_id = 1;
  // stats
  std::uint64_t tasks_created = 0;
  std::map<std::string, std::uint64_t> by_model;
  std::uint64_t callbacks_sent = 0;
  std::uint64_t callbacks_failed = 0;
  std::uint64_t record_info_calls = 0;
  std::uint64_t uploads_made = 0;
  std::unique_ptr<http::Client> client;
};

std::int64_t now_ms();
// An answer in KIE's shape: HTTP 200 with `code`, `msg` and `data`.
http::Response kie(int code, std::string msg, json data = nullptr);
// Whether the request carries one of the accepted Bearer keys.
bool authorized(const State& st, const http::Request& r);
http::Response unauthorized();
// Where this emulator's files are served: public_url, else the Host header.
std::string base_url(const State& st, const http::Request& r);

// A new task's refusal before its input is read (maintenance, an injected
// failure, the rate of 20 new tasks per 10 s), if any.
std::optional<http::Response> refuse_new_task(State& st);
// Records a new task (counted, in the rate window) and returns it.
Task& new_task(State& st, const http::Request& r, std::string model, std::string output, json request,
               std::string callback);
// POSTs a callback body for a task (signed when a webhook HMAC key is set),
// retried three times with doubling delays.
net::awaitable<void> deliver(std::shared_ptr<State> st, std::string url, std::string body, std::string task_id);
// KIE's Suno API (suno.cpp): /api/v1/generate and /api/v1/generate/record-info.
void add_suno_routes(http::Router& router, const std::shared_ptr<State>& st);
// Veo 3.1, Runway, 4o Image, Flux Kontext and Midjourney (families.cpp).
void add_family_routes(http::Router& router, const std::shared_ptr<State>& st);

// GET /files/{name}: a task's result (streamed when large) or an upload.
http::Response file(const std::shared_ptr<State>& st, const http::Request& r);
// The first of this emulator's upload URLs in a task's input (at any depth)
// that is no longer stored: expired, or never uploaded.
std::optional<std::string> gone_upload(State& st, const std::string& base, const json& input);
// Forgets the uploads older than their lifetime (all of them with `all`).
void expire_uploads(State& st, bool all = false);
// POST /api/file-base64-upload.
http::Response upload_base64(const std::shared_ptr<State>& st, const http::Request& r);
// POST /api/v1/common/download-url.
http::Response download_url(const std::shared_ptr<State>& st, const http::Request& r);

}  // namespace kiebot::kie::detail
