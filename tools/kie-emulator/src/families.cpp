// KIE's API families with their own routes, as docs.kie.ai documents them:
// Veo 3.1 (veo3-api), Runway (runway-api), 4o Image (4o-image-api), Flux
// Kontext (flux-kontext-api) and Midjourney (mj-api). Each takes the input's
// fields at the top level of the body (no model/input wrapper), answers
// {"taskId"}, and has a status route and callback bodies of its own: Veo,
// 4o Image, Flux Kontext and Midjourney a successFlag (0 generating,
// 1 success, 2 or 3 failed), Runway a state (wait, queueing, generating,
// success, fail) and snake_case callbacks.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "catalog.hpp"
#include "emulator_state.hpp"
#include "kiebot/http/router.hpp"
#include "media.hpp"

namespace kiebot::kie::detail {

namespace {

// One family: its routes, the rules its schema cannot say, and the shapes
// of its status data and callback bodies.
struct Family {
  const char* api;
  const char* model;  // its entry in kie-models.json
  const char* create_path;
  const char* status_path;
  bool callback_required;
  int results;  // files per task
  std::optional<std::string> (*rules)(const json& body);
  json (*status)(const Task& t);
  json (*callback)(const Task& t);
};

std::string result_url(const Task& t, int n, int results) {
  auto ext = std::string(extension_for(t.output));
  if (results == 1) return t.base_url + "/files/" + t.id + "-result." + ext;
  return t.base_url + "/files/" + t.id + "-t" + std::to_string(n) + "-result." + ext;
}

json result_urls(const Task& t, int results) {
  json urls = json::array();
  for (int n = 1; n <= results; ++n) urls.push_back(result_url(t, n, results));
  return urls;
}

std::string text(const json& body, const char* name) {
  return body.contains(name) && body[name].is_string() ? body[name].get<std::string>() : "";
}

std::size_t items(const json& body, const char* name) {
  return body.contains(name) && body[name].is_array() ? body[name].size() : 0;
}

// successFlag families: what their status data share.
json flagged(const Task& t) {
  int flag = t.state == "success" ? 1 : t.state == "fail" ? 3 : 0;
  json d = {{"taskId", t.id},          {"paramJson", t.request.dump()}, {"successFlag", flag},
            {"errorCode", nullptr},    {"errorMessage", nullptr},       {"createTime", t.created_ms},
            {"completeTime", nullptr}};
  if (t.completed_ms != 0) d["completeTime"] = t.completed_ms;
  if (t.state == "fail") {
    d["errorCode"] = 501;
    d["errorMessage"] = "Generation failed";
  }
  return d;
}

// --- Veo 3.1 (veo3-api/generate-veo-3-video, get-veo-3-video-details) ---

std::optional<std::string> veo_rules(const json& body) {
  auto type = text(body, "generationType");
  auto images = items(body, "imageUrls");
  if (type == "REFERENCE_2_VIDEO") {
    if (text(body, "model") == "veo3") return "REFERENCE_2_VIDEO is supported by veo3_fast and veo3_lite only";
    if (body.contains("duration") && body["duration"] != 8) return "REFERENCE_2_VIDEO supports duration 8 only";
  } else if (type == "FIRST_AND_LAST_FRAMES_2_VIDEO" && (images < 1 || images > 2)) {
    return "FIRST_AND_LAST_FRAMES_2_VIDEO takes 1 or 2 images";
  } else if (type == "TEXT_2_VIDEO" && images > 0) {
    return "TEXT_2_VIDEO takes no imageUrls";
  } else if (type.empty() && images > 2) {
    return "more than 2 imageUrls need generationType REFERENCE_2_VIDEO";
  }
  return std::nullopt;
}

json veo_status(const Task& t) {
  auto d = flagged(t);
  d["fallbackFlag"] = false;
  if (t.state == "success") {
    d["response"] = {{"taskId", t.id},
                     {"resultUrls", result_urls(t, 1)},
                     {"originUrls", json::array()},
                     {"fullResultUrls", result_urls(t, 1)},
                     {"resolution", t.request.value("resolution", std::string("720p"))}};
  }
  return d;
}

json veo_callback(const Task& t) {
  if (t.state != "success") {
    return {{"code", 501}, {"msg", "Generation failed"}, {"data", {{"taskId", t.id}, {"fallbackFlag", false}}}};
  }
  json info = {{"resultUrls", result_urls(t, 1)},
               {"originUrls", json::array()},
               {"resolution", t.request.value("resolution", std::string("720p"))}};
  return {{"code", 200},
          {"msg", "Veo3.1 video generated successfully."},
          {"data", {{"taskId", t.id}, {"promptJson", t.request.dump()}, {"info", info}, {"fallbackFlag", false}}}};
}

// --- Runway (runway-api/generate-ai-video, get-ai-video-details) ---

std::optional<std::string> runway_rules(const json& body) {
  if (body.value("duration", json()) == 10 && text(body, "quality") == "1080p") {
    return "1080p is available for 5-second videos only";
  }
  if (text(body, "imageUrl").empty() && text(body, "aspectRatio").empty()) {
    return "aspectRatio is required for text-to-video";
  }
  return std::nullopt;
}

json runway_status(const Task& t) {
  static const std::map<std::string, std::string> kState = {
      {"waiting", "wait"}, {"queuing", "queueing"}, {"generating", "generating"}, {"success", "success"}, {"fail", "fail"}};
  json d = {{"taskId", t.id},
            {"state", kState.at(t.state)},
            {"generateTime", std::to_string(t.created_ms)},
            {"generateParam",
             {{"prompt", text(t.request, "prompt")}, {"imageUrl", text(t.request, "imageUrl")}, {"expandPrompt", true}}},
            {"videoInfo", nullptr},
            {"failCode", nullptr},
            {"failMsg", ""},
            {"expireFlag", 0}};
  if (t.state == "success") {
    d["videoInfo"] = {{"videoId", t.id + "-v"},
                      {"taskId", t.id},
                      {"videoUrl", result_url(t, 1, 1)},
                      {"imageUrl", t.base_url + "/files/" + t.id + "-cover-result.png"}};
  } else if (t.state == "fail") {
    d["failCode"] = 400;
    d["failMsg"] = "Generation failed";
  }
  return d;
}

json runway_callback(const Task& t) {
  bool ok = t.state == "success";
  json data = {{"task_id", t.id},
               {"video_id", ok ? t.id + "-v" : ""},
               {"video_url", ok ? result_url(t, 1, 1) : ""},
               {"image_url", ok ? t.base_url + "/files/" + t.id + "-cover-result.png" : ""}};
  return {{"code", ok ? 200 : 400}, {"msg", ok ? "All generated successfully." : "Generation failed"}, {"data", data}};
}

// --- 4o Image (4o-image-api/generate-4-o-image, get-4-o-image-details) ---

std::optional<std::string> gpt4o_rules(const json& body) {
  if (text(body, "prompt").empty() && items(body, "filesUrl") == 0 && text(body, "fileUrl").empty()) {
    return "prompt or filesUrl is required";
  }
  return std::nullopt;
}

json gpt4o_status(const Task& t) {
  auto d = flagged(t);
  if (t.state == "fail") d["successFlag"] = 2;
  d["status"] = t.state == "success" ? "SUCCESS" : t.state == "fail" ? "GENERATE_FAILED" : "GENERATING";
  d["progress"] = t.state == "success" ? "1.00" : t.state == "generating" ? "0.50" : "0.00";
  d["response"] = t.state == "success" ? json{{"resultUrls", result_urls(t, 1)}} : json();
  return d;
}

json gpt4o_callback(const Task& t) {
  if (t.state != "success") return {{"code", 500}, {"msg", "Generation failed"}, {"data", {{"taskId", t.id}, {"info", nullptr}}}};
  return {{"code", 200}, {"msg", "success"}, {"data", {{"taskId", t.id}, {"info", {{"result_urls", result_urls(t, 1)}}}}}};
}

// --- Flux Kontext (flux-kontext-api/generate-or-edit-image, get-image-details) ---

json flux_images(const Task& t) {
  bool ok = t.state == "success";
  return {{"originImageUrl", ok ? t.base_url + "/files/" + t.id + "-origin-result." + std::string(extension_for(t.output)) : ""},
          {"resultImageUrl", ok ? result_url(t, 1, 1) : ""}};
}

json flux_status(const Task& t) {
  auto d = flagged(t);
  if (t.state == "success") d["response"] = flux_images(t);
  return d;
}

json flux_callback(const Task& t) {
  bool ok = t.state == "success";
  return {{"code", ok ? 200 : 501},
          {"msg", ok ? "BFL image generated successfully." : "Image generation task failed"},
          {"data", {{"taskId", t.id}, {"info", flux_images(t)}}}};
}

// --- Midjourney (mj-api/generate-mj-image, get-mj-task-details) ---

constexpr int kMjImages = 4;

std::optional<std::string> mj_rules(const json& body) {
  auto type = text(body, "taskType");
  bool video = type == "mj_video" || type == "mj_video_hd";
  bool needs_image = type != "mj_txt2img";
  if (!video && type != "mj_omni_reference" && text(body, "speed").empty()) return "speed is required for " + type;
  if (needs_image && items(body, "fileUrls") == 0 && text(body, "fileUrl").empty()) return "fileUrls is required for " + type;
  if (video && text(body, "motion").empty()) return "motion is required for " + type;
  return std::nullopt;
}

json mj_status(const Task& t) {
  auto d = flagged(t);
  d["taskType"] = text(t.request, "taskType");
  json urls = json::array();
  if (t.state == "success") {
    for (const auto& u : result_urls(t, kMjImages)) urls.push_back({{"resultUrl", u}});
  }
  d["resultInfoJson"] = {{"resultUrls", urls}};
  return d;
}

json mj_callback(const Task& t) {
  bool ok = t.state == "success";
  return {{"code", ok ? 200 : 500},
          {"msg", ok ? "success" : "Image generation failed"},
          {"data", {{"taskId", t.id}, {"promptJson", t.request.dump()}, {"resultUrls", ok ? result_urls(t, kMjImages) : json::array()}}}};
}

const Family kFamilies[] = {
    {"veo", "veo/generate", "/api/v1/veo/generate", "/api/v1/veo/record-info", false, 1, veo_rules, veo_status,
     veo_callback},
    {"runway", "runway/generate", "/api/v1/runway/generate", "/api/v1/runway/record-detail", true, 1, runway_rules,
     runway_status, runway_callback},
    {"gpt4o_image", "gpt4o-image/generate", "/api/v1/gpt4o-image/generate", "/api/v1/gpt4o-image/record-info", false, 1,
     gpt4o_rules, gpt4o_status, gpt4o_callback},
    {"flux_kontext", "flux/kontext/generate", "/api/v1/flux/kontext/generate", "/api/v1/flux/kontext/record-info", false,
     1, [](const json&) { return std::optional<std::string>(); }, flux_status, flux_callback},
    {"midjourney", "mj/generate", "/api/v1/mj/generate", "/api/v1/mj/record-info", false, kMjImages, mj_rules, mj_status,
     mj_callback},
};

net::awaitable<void> run(std::shared_ptr<State> st, std::string id, const Family* family) {
  net::steady_timer wait(st->executor);
  const std::pair<const char*, std::int64_t> steps[] = {{"queuing", st->config.waiting_ms},
                                                        {"generating", st->config.queuing_ms},
                                                        {"done", st->config.generating_ms}};
  for (const auto& [next, ms] : steps) {
    wait.expires_after(std::chrono::milliseconds(ms));
    co_await wait.async_wait(net::use_awaitable);
    auto& task = st->tasks[id];
    task.state = std::string_view(next) != "done" ? next : task.will_fail ? "fail" : "success";
  }
  auto& task = st->tasks[id];
  task.completed_ms = now_ms();
  if (task.callback_url.empty() || st->config.callback_mode == "drop") co_return;
  auto body = family->callback(task).dump();
  auto url = task.callback_url;
  int copies = st->config.callback_mode == "duplicate" ? 2 : 1;
  for (int i = 0; i < copies; ++i) co_await deliver(st, url, body, id);
}

http::Response generate(const std::shared_ptr<State>& st, const Family& family, const http::Request& r) {
  if (!authorized(*st, r)) return unauthorized();
  if (auto refused = refuse_new_task(*st)) return *refused;
  const auto* model = find_model(family.model);
  auto body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return kie(422, "Invalid JSON body");
  std::string callback;
  if (body.contains("callBackUrl") && !body["callBackUrl"].is_null()) {
    if (!body["callBackUrl"].is_string() || !http::Url::parse(body["callBackUrl"].get<std::string>())) {
      return kie(422, "callBackUrl must be an http(s) URL");
    }
    callback = body["callBackUrl"].get<std::string>();
  }
  if (family.callback_required && callback.empty()) return kie(422, "callBackUrl is required");
  auto fields = body;
  fields.erase("callBackUrl");
  if (auto problem = validate_input(*model, fields)) return kie(422, *problem);
  if (auto problem = family.rules(fields)) return kie(422, *problem);
  if (st->config.credits < model->credits) return kie(402, "The current credits are insufficient. Please top up.");
  st->config.credits -= model->credits;
  auto& task = new_task(*st, r, model->id, model->output, body, callback);
  st->background->spawn(task.id, run(st, task.id, &family));
  return kie(200, "success", {{"taskId", task.id}});
}

http::Response status(const std::shared_ptr<State>& st, const Family& family, const http::Request& r) {
  if (!authorized(*st, r)) return unauthorized();
  ++st->record_info_calls;
  auto id = r.query("taskId");
  if (!id || id->empty()) return kie(422, "taskId is required");
  auto it = st->tasks.find(*id);
  if (it == st->tasks.end() || it->second.model != family.model) return kie(404, "task not found: " + *id);
  return kie(200, "success", family.status(it->second));
}

}  // namespace

void add_family_routes(http::Router& router, const std::shared_ptr<State>& st) {
  for (const auto& family : kFamilies) {
    if (find_model(family.model) == nullptr) throw std::logic_error(std::string("kie-models.json has no ") + family.model);
    const auto* f = &family;
    router.add("POST", f->create_path,
               http::SyncHandler([st, f](const http::Request& r) { return generate(st, *f, r); }));
    router.add("GET", f->status_path, http::SyncHandler([st, f](const http::Request& r) { return status(st, *f, r); }));
  }
}

}  // namespace kiebot::kie::detail
