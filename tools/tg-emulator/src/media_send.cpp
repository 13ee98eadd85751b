// Media messages by file_id, by URL (really fetched) and by upload, with
// Telegram's limits (core.telegram.org/bots/api#sending-files): by URL 5 MB
// for photos and 20 MB otherwise; by upload 10 MB and 50 MB; captions 1024;
// a photo's width + height at most 10000 and its sides' ratio at most 20
// (PHOTO_INVALID_DIMENSIONS); thumbnails JPEG under 200 kB, at most 320 px
// (others are ignored, as Telegram ignores them).
#include "media_send.hpp"

#include <vector>

#include "api.hpp"
#include "args.hpp"
#include "kiebot/base/image_size.hpp"
#include "kiebot/http/client.hpp"
#include "markup.hpp"

namespace kiebot::tg {

namespace {

constexpr std::size_t kMb = 1024 * 1024;

struct Kind {
  const char* method;
  const char* field;  // parameter and Message field
  std::size_t url_limit;
  std::size_t upload_limit;
  const char* mime;
};

const Kind kKinds[] = {
    {"sendPhoto", "photo", 5 * kMb, 10 * kMb, "image/jpeg"},
    {"sendVideo", "video", 20 * kMb, 50 * kMb, "video/mp4"},
    {"sendAudio", "audio", 20 * kMb, 50 * kMb, "audio/mpeg"},
    {"sendDocument", "document", 20 * kMb, 50 * kMb, "application/octet-stream"},
};

const Kind* kind_of_type(const std::string& type) {
  for (const auto& k : kKinds) {
    if (type == k.field) return &k;
  }
  return nullptr;
}

struct Resolved {
  std::string file_id;
  std::string url;  // what the transcript shows
  std::size_t size = 0;
  std::string name;
  std::optional<ImageSize> dimensions;  // when the bytes are an image the emulator can read
};

// A photo's real dimensions, refused as Telegram refuses them.
std::optional<ImageSize> checked_photo(const Kind& kind, std::string_view bytes) {
  if (std::string_view(kind.field) != "photo") return std::nullopt;
  auto size = image_size(bytes);
  if (size && !photo_dimensions_ok(*size)) bad("PHOTO_INVALID_DIMENSIONS");
  return size;
}

std::string store(Emulator& em, Bot& bot, std::string bytes, std::string content_type) {
  auto id = em.unique_id("AgAC");
  bot.files[id] = StoredFile{em.unique_id("AQAD"), std::move(content_type), std::move(bytes)};
  return id;
}

std::string file_url(const Bot& bot, const std::string& id) {
  return "/file/bot" + bot.token + "/files/" + id;
}

net::awaitable<Resolved> resolve(std::shared_ptr<Emulator> em, std::string token, Kind kind, std::string value,
                                 std::optional<UploadedFile> upload) {
  auto& bot = *em->bot(token);
  if (upload) {
    // A local Bot API server takes 2000 MB, photos excepted.
    auto limit = em->local_api && std::string_view(kind.field) != "photo" ? 2000 * kMb : kind.upload_limit;
    if (upload->size > limit) bad("file is too big");
    if (upload->size == 0) bad("file must be non-empty");
    auto size = upload->size;
    auto dimensions = checked_photo(kind, upload->bytes);
    auto id = store(*em, bot, std::move(upload->bytes), kind.mime);
    co_return Resolved{id, file_url(bot, id), size, upload->filename, dimensions};
  }
  if (value.starts_with("http://") || value.starts_with("https://")) {
    http::ClientOptions options;
    options.max_response_bytes = kind.url_limit;
    options.timeout = std::chrono::seconds(20);
    http::Client fetcher(em->executor, options);
    try {
      // Like Telegram, a file announced larger than the limit is refused
      // before its body is read.
      http::ClientRequest get{"GET", value, {}, {}, std::chrono::seconds(20)};
      auto download = co_await fetcher.open(std::move(get));
      if (download->content_length && *download->content_length > kind.url_limit) bad("failed to get HTTP URL content");
      if (download->status != 200) bad("wrong file identifier/HTTP URL specified");
      std::string body;
      std::vector<char> chunk(64 * 1024);
      while (true) {
        auto n = co_await download->read(chunk.data(), chunk.size());
        if (n == 0) break;
        if (body.size() + n > kind.url_limit) bad("failed to get HTTP URL content");
        body.append(chunk.data(), n);
      }
      if (body.empty()) bad("wrong file identifier/HTTP URL specified");
      auto size = body.size();
      auto dimensions = checked_photo(kind, body);
      auto id = store(*em, bot, std::move(body), std::string(download->header("content-type").value_or(kind.mime)));
      co_return Resolved{id, value, size, value.substr(value.rfind('/') + 1), dimensions};
    } catch (const http::ClientError& e) {
      if (e.kind() == http::ClientError::Kind::too_large) bad("failed to get HTTP URL content");
      bad("wrong file identifier/HTTP URL specified");
    }
  }
  auto it = bot.files.find(value);
  if (it == bot.files.end()) bad("wrong file identifier/HTTP URL specified");
  co_return Resolved{value, file_url(bot, value), it->second.bytes.size(), "file", image_size(it->second.bytes)};
}

json media_object(const Kind& kind, const Resolved& r, Bot& bot) {
  json file = {{"file_id", r.file_id}, {"file_unique_id", bot.files[r.file_id].file_unique_id}, {"file_size", r.size}};
  std::string field = kind.field;
  if (field == "photo") {
    file["width"] = r.dimensions ? r.dimensions->width : 1280;
    file["height"] = r.dimensions ? r.dimensions->height : 1280;
    return json::array({file});
  }
  if (field == "video") {
    file["width"] = 1280;
    file["height"] = 720;
    file["duration"] = 5;
  }
  if (field == "audio") file["duration"] = 5;
  if (field == "document") file["file_name"] = r.name;
  file["mime_type"] = kind.mime;
  return file;
}

// What a single audio, video or document carries beyond its file: an
// audio's title, performer and duration, and a thumbnail Telegram can use
// (uploaded as multipart; any other is ignored, as Telegram ignores it).
void describe(Emulator& em, Bot& bot, const Kind& kind, const Params& p, json& file) {
  std::string field = kind.field;
  if (field == "photo") return;
  if (field == "audio") {
    if (auto title = p.get("title")) file["title"] = *title;
    if (auto performer = p.get("performer")) file["performer"] = *performer;
    if (auto duration = p.get("duration")) file["duration"] = integer(*duration, "duration");
  }
  auto thumbnail = p.get("thumbnail");
  if (!thumbnail || !thumbnail->starts_with("attach://")) return;
  auto it = p.files.find(thumbnail->substr(9));
  if (it == p.files.end()) return;
  auto size = image_size(it->second.bytes);
  if (!size || !thumbnail_ok(*size, it->second.size)) return;
  auto id = store(em, bot, it->second.bytes, "image/jpeg");
  file["thumbnail"] = {{"file_id", id},
                       {"file_unique_id", bot.files[id].file_unique_id},
                       {"width", size->width},
                       {"height", size->height},
                       {"file_size", it->second.size}};
}

// The transcript's view of a sent file.
json transcript_media(const Kind& kind, const Resolved& r, const json& file) {
  json media = {{"type", kind.field}, {"url", r.url}, {"file_size", r.size}};
  for (const char* key : {"title", "performer", "duration"}) {
    if (file.is_object() && file.contains(key)) media[key] = file[key];
  }
  if (file.is_object() && file.contains("thumbnail")) {
    media["thumbnail"] = {{"width", file["thumbnail"]["width"]}, {"height", file["thumbnail"]["height"]}};
  }
  if (r.dimensions) media["dimensions"] = {{"width", r.dimensions->width}, {"height", r.dimensions->height}};
  return media;
}

std::optional<UploadedFile> attached(const Params& p, const std::string& field, const std::string& value) {
  if (auto it = p.files.find(field); it != p.files.end()) return it->second;
  if (value.starts_with("attach://")) {
    auto it = p.files.find(value.substr(9));
    if (it == p.files.end()) bad("wrong file identifier/HTTP URL specified");
    return it->second;
  }
  return std::nullopt;
}

std::string caption_of(const json& source) {
  auto caption = source.value("caption", std::string());
  auto parsed = parse_text(caption, source.value("parse_mode", std::string()));
  if (parsed.error) throw BotError{400, *parsed.error};
  if (utf16_length(parsed.text) > 1024) bad("message caption is too long");
  return parsed.text;
}

Chat& chat_for(Bot& bot, const Params& p) {
  auto id = p.get("chat_id");
  if (!id || id->empty()) bad("chat_id is empty");
  try {
    auto it = bot.chats.find(std::stoll(*id));
    if (it != bot.chats.end()) return it->second;
  } catch (const std::exception&) {
  }
  bad("chat not found");
}

}  // namespace

bool is_media_method(const std::string& method) {
  if (method == "sendMediaGroup") return true;
  for (const auto& k : kKinds) {
    if (method == k.method) return true;
  }
  return false;
}

net::awaitable<http::Response> send_media(std::shared_ptr<Emulator> em, std::string token, std::string method,
                                          Params params) {
  auto& bot = *em->bot(token);
  auto& chat = chat_for(bot, params);
  json items = json::array();
  if (method == "sendMediaGroup") {
    auto media = json::parse(params.get("media").value_or("null"), nullptr, false);
    if (!media.is_array()) bad("can't parse media JSON object");
    if (media.size() < 2 || media.size() > 10) bad("wrong number of media in the album: 2-10 expected");
    items = media;
  } else {
    const Kind* kind = nullptr;
    for (const auto& k : kKinds) {
      if (method == k.method) kind = &k;
    }
    json item = {{"type", kind->field}, {"media", params.get(kind->field).value_or("")}};
    if (auto c = params.get("caption")) item["caption"] = *c;
    if (auto m = params.get("parse_mode")) item["parse_mode"] = *m;
    if (!params.files.count(kind->field) && item["media"].get<std::string>().empty()) {
      bad(std::string("there is no ") + kind->field + " in the request");
    }
    items.push_back(item);
  }
  // Validate everything before any message appears.
  std::vector<std::pair<const Kind*, std::string>> checked;
  for (const auto& item : items) {
    const Kind* kind = kind_of_type(item.value("type", std::string()));
    if (kind == nullptr) bad("wrong type of the media");
    checked.emplace_back(kind, caption_of(item));
  }
  json markup = nullptr;
  if (auto m = params.get("reply_markup")) markup = json::parse(*m, nullptr, false);
  std::vector<std::pair<const Kind*, Resolved>> resolved;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto value = items[i].value("media", std::string());
    auto upload = attached(params, method == "sendMediaGroup" ? std::string() : checked[i].first->field, value);
    resolved.emplace_back(checked[i].first, co_await resolve(em, token, *checked[i].first, value, upload));
  }
  spend_flood(*em, chat);
  json sent = json::array();
  auto group = items.size() > 1 ? em->unique_id("grp") : std::string();
  for (std::size_t i = 0; i < resolved.size(); ++i) {
    const auto& [kind, r] = resolved[i];
    auto file = media_object(*kind, r, bot);
    if (method != "sendMediaGroup") describe(*em, bot, *kind, params, file);
    json fields = {{kind->field, file}};
    if (!checked[i].second.empty()) fields["caption"] = checked[i].second;
    if (!group.empty()) fields["media_group_id"] = group;
    if (!markup.is_null() && !markup.is_discarded() && items.size() == 1) fields["reply_markup"] = markup;
    auto& m = add_message(*em, bot, chat, true, fields);
    m.media = transcript_media(*kind, r, file);
    m.visible_text.clear();
    sent.push_back(m.body);
  }
  co_return ok(method == "sendMediaGroup" ? sent : sent[0]);
}

}  // namespace kiebot::tg
