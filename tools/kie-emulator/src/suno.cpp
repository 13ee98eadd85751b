// KIE's Suno API as docs.kie.ai documents it (suno-api/generate-music,
// get-music-details, generate-music-callbacks): top-level fields (no
// model/input wrapper), a required callBackUrl, a status of its own
// (PENDING, TEXT_SUCCESS, FIRST_SUCCESS, SUCCESS, *_FAILED), two tracks per
// task, and callbacks in stages (text, first, complete; error on failure)
// whose items are snake_case where record-info's are camelCase; each track
// has a title and a cover image (served at /covers/).
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "catalog.hpp"
#include "emulator_state.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/http/router.hpp"
#include "media.hpp"

namespace kiebot::kie::detail {

namespace {

constexpr int kTracks = 2;

std::string track_url(const Task& t, int n) {
  return t.base_url + "/files/" + t.id + "-t" + std::to_string(n) + "-result.mp3";
}

// The mode rules the schema cannot say (generate-music): custom mode needs
// a style and a title (and lyrics unless instrumental); the description
// mode takes up to 500 characters.
std::optional<std::string> mode_problem(const json& body) {
  bool custom = body.value("customMode", false);
  bool instrumental = body.value("instrumental", false);
  auto text = [&](const char* name) { return body.contains(name) && body[name].is_string() ? body[name].get<std::string>() : ""; };
  if (custom) {
    if (text("style").empty()) return "style is required in custom mode";
    if (text("title").empty()) return "title is required in custom mode";
    if (!instrumental && text("prompt").empty()) return "prompt (the lyrics) is required in custom mode with vocals";
  } else {
    auto prompt = text("prompt");
    if (prompt.empty()) return "prompt is required";
    if (characters(prompt) > 500) return "prompt exceeds 500 characters in non-custom mode";
  }
  return std::nullopt;
}

std::string cover_url(const Task& t, int n) {
  return t.base_url + "/covers/" + t.id + "-t" + std::to_string(n) + ".jpeg";
}

// Custom mode keeps the given title; from a description Suno names the
// song itself (here: the description's first words).
std::string song_title(const Task& t) {
  if (t.request.value("customMode", false)) return t.request.value("title", std::string());
  auto prompt = t.request.value("prompt", std::string());
  std::string title;
  int words = 0;
  for (std::size_t at = 0; at < prompt.size() && words < 4;) {
    auto end = std::min(prompt.find(' ', at), prompt.size());
    if (end > at) {
      title += (title.empty() ? "" : " ") + prompt.substr(at, end - at);
      ++words;
    }
    at = end + 1;
  }
  return title.empty() ? "Untitled" : title;
}

json tracks(const Task& t, bool snake) {
  json out = json::array();
  for (int n = 1; n <= kTracks; ++n) {
    auto title = song_title(t) + (n > 1 ? " (" + std::to_string(n) + ")" : "");
    out.push_back({{"id", t.id + "-" + std::to_string(n)},
                   {snake ? "audio_url" : "audioUrl", track_url(t, n)},
                   {snake ? "image_url" : "imageUrl", cover_url(t, n)},
                   {"title", title},
                   {"tags", t.request.value("style", std::string())},
                   {snake ? "model_name" : "modelName", "chirp-" + t.request.value("model", std::string("V5"))},
                   {"duration", 30.0 * n}});
  }
  return out;
}

json suno_record(const Task& t) {
  json data = {{"taskId", t.id}, {"param", t.request.dump()}, {"status", t.state}, {"type", "GENERATE"},
               {"operationType", "generate"}, {"errorCode", nullptr}, {"errorMessage", nullptr}};
  if (t.state == "SUCCESS" || t.state == "FIRST_SUCCESS") {
    data["response"] = {{"taskId", t.id}, {"sunoData", tracks(t, false)}};
    if (t.state == "FIRST_SUCCESS") data["response"]["sunoData"][1]["audioUrl"] = "";
  } else if (t.state == "GENERATE_AUDIO_FAILED") {
    data["errorCode"] = 501;
    data["errorMessage"] = "Audio generation failed";
  }
  return data;
}

json stage_callback(const Task& t, const std::string& stage) {
  if (stage == "error") {
    return {{"code", 501}, {"msg", "Audio generation failed"},
            {"data", {{"callbackType", "error"}, {"task_id", t.id}, {"data", nullptr}}}};
  }
  auto items = stage == "text" ? json::array() : tracks(t, true);
  if (stage == "first") items[1]["audio_url"] = "";
  return {{"code", 200}, {"msg", stage == "complete" ? "All generated successfully." : "Stage " + stage + " done."},
          {"data", {{"callbackType", stage}, {"task_id", t.id}, {"data", items}}}};
}

net::awaitable<void> run_suno(std::shared_ptr<State> st, std::string id) {
  net::steady_timer wait(st->executor);
  auto step = [&](std::int64_t ms) {
    wait.expires_after(std::chrono::milliseconds(ms));
    return wait.async_wait(net::use_awaitable);
  };
  co_await step(st->config.waiting_ms);
  st->tasks[id].state = "PENDING";
  co_await step(st->config.queuing_ms);
  bool fails = st->tasks[id].will_fail;
  const std::pair<const char*, const char*> stages[] = {{"TEXT_SUCCESS", "text"}, {"FIRST_SUCCESS", "first"},
                                                        {"SUCCESS", "complete"}};
  for (const auto& [state, stage] : stages) {
    co_await step(st->config.generating_ms / 3);
    auto& task = st->tasks[id];
    bool failed_now = fails && std::string_view(stage) == "first";
    task.state = failed_now ? "GENERATE_AUDIO_FAILED" : state;
    if (failed_now || std::string_view(stage) == "complete") task.completed_ms = now_ms();
    if (st->config.callback_mode != "drop") {
      auto body = stage_callback(task, failed_now ? "error" : stage).dump();
      int copies = st->config.callback_mode == "duplicate" ? 2 : 1;
      for (int i = 0; i < copies; ++i) co_await deliver(st, task.callback_url, body, id);
    }
    if (failed_now) co_return;
  }
}

http::Response generate(const std::shared_ptr<State>& st, const http::Request& r) {
  if (!authorized(*st, r)) return unauthorized();
  if (auto refused = refuse_new_task(*st)) return *refused;
  const auto* model = find_model("suno/generate");
  auto body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return kie(422, "Invalid JSON body");
  auto callback = body.value("callBackUrl", json());
  if (!callback.is_string() || !http::Url::parse(callback.get<std::string>())) return kie(422, "callBackUrl is required");
  auto fields = body;
  fields.erase("callBackUrl");
  if (auto problem = validate_input(*model, fields)) return kie(422, *problem);
  if (auto problem = mode_problem(body)) return kie(422, *problem);
  if (st->config.credits < model->credits) return kie(402, "The current credits are insufficient. Please top up.");
  st->config.credits -= model->credits;
  auto& task = new_task(*st, r, "suno/" + body["model"].get<std::string>(), "audio", body, callback.get<std::string>());
  st->background->spawn(task.id, run_suno(st, task.id));
  return kie(200, "success", {{"taskId", task.id}});
}

http::Response suno_record_info(const std::shared_ptr<State>& st, const http::Request& r) {
  if (!authorized(*st, r)) return unauthorized();
  ++st->record_info_calls;
  auto id = r.query("taskId");
  if (!id || id->empty()) return kie(422, "taskId is required");
  auto it = st->tasks.find(*id);
  if (it == st->tasks.end() || !it->second.model.starts_with("suno/")) return kie(404, "task not found: " + *id);
  return kie(200, "success", suno_record(it->second));
}

// A track's cover, as Suno's image CDN serves it: a square JPEG.
http::Response cover(const std::shared_ptr<State>& st, const http::Request& r) {
  const auto& name = r.params.at("name");
  auto dash = name.rfind("-t");
  auto task = dash == std::string::npos ? st->tasks.end() : st->tasks.find(name.substr(0, dash));
  if (task == st->tasks.end() || !task->second.model.starts_with("suno/") || !name.ends_with(".jpeg")) {
    return http::Response::error(404, "not_found", "no such file");
  }
  return http::Response::text(200, jpeg_bytes(st->config.cover_px, st->config.cover_px), "image/jpeg");
}

}  // namespace

void add_suno_routes(http::Router& router, const std::shared_ptr<State>& st) {
  router.add("POST", "/api/v1/generate", http::SyncHandler([st](const http::Request& r) { return generate(st, r); }));
  router.add("GET", "/api/v1/generate/record-info",
             http::SyncHandler([st](const http::Request& r) { return suno_record_info(st, r); }));
  router.add("GET", "/covers/{name}", http::SyncHandler([st](const http::Request& r) { return cover(st, r); }));
}

}  // namespace kiebot::kie::detail
