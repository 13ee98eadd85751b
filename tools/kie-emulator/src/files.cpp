// The KIE emulator's files: task results (made up to the configured size,
// streamed when large), uploads (deleted after their lifetime, as KIE's are),
// and KIE's temporary download links.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

#include "emulator_state.hpp"
#include "kiebot/base/base64.hpp"
#include "media.hpp"

namespace kiebot::kie::detail {

namespace {

class PatternSource final : public http::BodySource {
 public:
  explicit PatternSource(MediaPattern pattern) : p_(std::move(pattern)) {}
  net::awaitable<std::size_t> read(char* data, std::size_t size) override {
    std::size_t n = 0;
    while (n < size && at_ < p_.length) {
      const auto& from = at_ < p_.head.size() ? p_.head : p_.unit;
      auto offset = at_ < p_.head.size() ? at_ : (at_ - p_.head.size()) % p_.unit.size();
      auto take = std::min<std::uint64_t>({size - n, from.size() - offset, p_.length - at_});
      std::copy_n(from.data() + offset, take, data + n);
      n += static_cast<std::size_t>(take);
      at_ += take;
    }
    co_return n;
  }

 private:
  MediaPattern p_;
  std::uint64_t at_ = 0;
};

// KIE's timestamps in upload answers: "2025-01-01T12:00:00.000Z".
std::string iso_time(std::int64_t ms) {
  auto seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(ms % 1000));
  return std::string(text, n) + millis;
}

json stored(State& st, const std::string& base, std::string name, std::string content_type, std::string bytes) {
  auto size = bytes.size();
  auto key = "upload-" + std::to_string(st.next_id++) + "-" + name;
  auto now = now_ms();
  ++st.uploads_made;
  st.uploads[key] = Upload{content_type, std::move(bytes), now};
  return {{"fileName", name}, {"filePath", "kieai/uploads/" + key}, {"downloadUrl", base + "/files/" + key},
          {"fileSize", size}, {"mimeType", content_type},           {"uploadedAt", iso_time(now)}};
}

// Every string of a task's input, at any depth (URLs sit in strings and lists).
void strings_of(const json& j, std::vector<std::string>& out) {
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
  } else if (j.is_array() || j.is_object()) {
    for (const auto& v : j) strings_of(v, out);
  }
}

}  // namespace

void expire_uploads(State& st, bool all) {
  auto oldest = now_ms() - st.config.upload_ttl_ms;
  std::erase_if(st.uploads, [&](const auto& kv) { return all || kv.second.uploaded_ms <= oldest; });
}

std::optional<std::string> gone_upload(State& st, const std::string& base, const json& input) {
  expire_uploads(st);
  std::vector<std::string> strings;
  strings_of(input, strings);
  auto prefix = base + "/files/upload-";
  for (const auto& s : strings) {
    if (s.starts_with(prefix) && !st.uploads.count(s.substr(base.size() + 7))) return s;
  }
  return std::nullopt;
}

http::Response file(const std::shared_ptr<State>& st, const http::Request& r) {
  const auto& name = r.params.at("name");
  expire_uploads(*st);
  if (auto up = st->uploads.find(name); up != st->uploads.end()) {
    return http::Response::text(200, up->second.bytes, up->second.content_type);
  }
  auto dash = name.rfind("-result.");
  auto task = dash == std::string::npos ? std::string() : name.substr(0, dash);
  // A task's several files: <task>-t<n>-result.mp3 (Suno's tracks,
  // Midjourney's images), <task>-cover-result.png (Runway's cover),
  // <task>-origin-result.jpeg (Flux Kontext's original). Task ids have no '-'.
  if (auto t = task.find('-'); t != std::string::npos && !st->tasks.count(task)) task = task.substr(0, t);
  if (name.starts_with("upload-") || dash == std::string::npos || !st->tasks.count(task)) {
    return http::Response::error(404, "not_found", "no such file");
  }
  auto ext = name.substr(dash + 8);
  // Large results are produced as they are sent (like a CDN streaming a
  // stored file): hundreds at once must not each sit in memory here.
  if (auto pattern = media_pattern(ext, st->config.result_size); pattern && st->config.result_size > (1u << 20)) {
    http::Response out;
    out.headers = {{"Content-Type", std::string(content_type_for(ext))}};
    out.body_stream_length = pattern->length;
    out.body_stream = std::make_shared<PatternSource>(std::move(*pattern));
    return out;
  }
  auto bytes = media_bytes(ext, st->config.result_size, st->config.result_width, st->config.result_height);
  return http::Response::text(200, std::move(bytes), std::string(content_type_for(ext)));
}

http::Response upload_base64(const std::shared_ptr<State>& st, const http::Request& r) {
  if (!authorized(*st, r)) return unauthorized();
  auto body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.contains("base64Data") || !body["base64Data"].is_string()) {
    return kie(400, "base64Data is required");
  }
  auto bytes = base64_decode(body["base64Data"].get<std::string>());
  if (!bytes || bytes->empty()) return kie(400, "base64Data is not valid base64");
  auto name = body.value("fileName", std::string("upload.bin"));
  auto data = stored(*st, base_url(*st, r), name, "application/octet-stream", std::move(*bytes));
  json out = {{"success", true}, {"code", 200}, {"msg", "File uploaded successfully"}, {"data", data}};
  return http::Response::json(200, out);
}

// "Get Download URL": a temporary link to one of this emulator's files.
http::Response download_url(const std::shared_ptr<State>& st, const http::Request& r) {
  if (!authorized(*st, r)) return unauthorized();
  auto body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.contains("url") || !body["url"].is_string()) return kie(422, "url is required");
  auto url = body["url"].get<std::string>();
  if (!url.starts_with(base_url(*st, r) + "/files/")) return kie(422, "The URL is not a KIE file URL");
  return kie(200, "success", url + "?expires=" + std::to_string(now_ms() / 1000 + 1200));
}

}  // namespace kiebot::kie::detail
