// Delivering a result to the user's chat: by URL with the method its type
// needs, else downloaded and uploaded, else as a link; and editing the
// chat's status message.
#include "generator.hpp"
#include "generator_metrics.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/catalog/catalog.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/redis/rate_limiter.hpp"
#include "kiebot/telegram/telegram.hpp"
#include "messages.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <memory>

namespace kiebot::generator {

using nlohmann::json;

namespace {

std::string media_type(const std::string& url) {
  auto path = url.substr(0, url.find('?'));
  auto dot = path.rfind('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "png" || ext == "jpg" || ext == "jpeg" || ext == "webp") return "photo";
  if (ext == "mp4" || ext == "mov" || ext == "webm") return "video";
  if (ext == "mp3" || ext == "wav" || ext == "ogg" || ext == "m4a" || ext == "aac" || ext == "flac") return "audio";
  return "document";
}

std::string send_method(const std::string& type) {
  if (type == "photo") return "sendPhoto";
  if (type == "video") return "sendVideo";
  if (type == "audio") return "sendAudio";
  return "sendDocument";
}

std::string file_name(const std::string& url) {
  auto path = url.substr(0, url.find('?'));
  auto slash = path.rfind('/');
  auto name = slash == std::string::npos ? path : path.substr(slash + 1);
  return name.empty() ? "result" : name;
}

// A download read into an unlinked temporary file, up to a cap: for a
// result whose length is not announced, so that it can still be uploaded
// with a Content-Length without being held in memory.
class SpooledFile final : public http::BodySource {
 public:
  SpooledFile() : file_(std::tmpfile()) {}
  ~SpooledFile() override {
    if (file_) std::fclose(file_);
  }
  SpooledFile(const SpooledFile&) = delete;
  SpooledFile& operator=(const SpooledFile&) = delete;

  // False when the source is longer than `cap` (or the disk refused it).
  net::awaitable<bool> fill(http::BodySource* source, std::uint64_t cap) {
    if (!file_) co_return false;
    std::vector<char> chunk(64 * 1024);
    while (true) {
      auto n = co_await source->read(chunk.data(), chunk.size());
      if (n == 0) break;
      size_ += n;
      if (size_ > cap || std::fwrite(chunk.data(), 1, n, file_) != n) co_return false;
    }
    std::rewind(file_);
    co_return true;
  }
  std::uint64_t size() const { return size_; }

  net::awaitable<std::size_t> read(char* data, std::size_t size) override {
    co_return std::fread(data, 1, size, file_);
  }

 private:
  std::FILE* file_;
  std::uint64_t size_ = 0;
};

// The link message, with how long the link lasts when its URL says so.
std::string link_text(const std::string& language, const std::string& url) {
  auto text = message(language, "links") + "\n" + url;
  if (auto expiry = link_expiry(url)) {
    std::time_t t = static_cast<std::time_t>(*expiry);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &utc);
    text += "\n" + message(language, "link_expires") + " " + when;
  }
  return text;
}

// The chat, and the message the result answers when the job names one.
json addressed(const Job& job) {
  json params = {{"chat_id", *job.chat_id}};
  if (job.reply_to_message_id) {
    params["reply_parameters"] = {{"message_id", *job.reply_to_message_id}, {"allow_sending_without_reply", true}};
  }
  return params;
}

}  // namespace

net::awaitable<void> Generator::edit_status(const Job& job, std::string text) {
  if (!job.chat_id || !job.status_message_id) co_return;
  json params = {{"chat_id", *job.chat_id}, {"message_id", *job.status_message_id}, {"text", std::move(text)}};
  co_await s_.limiter.acquire(job.chat_id->value(), std::chrono::seconds(30));
  auto edited = co_await s_.telegram.call("editMessageText", std::move(params), std::chrono::seconds(5));
  if (!edited.ok) log::info("status_edit_failed", {{"job_id", job.id}, {"description", edited.description}});
}

std::optional<std::int64_t> link_expiry(const std::string& url) {
  auto q = url.find('?');
  if (q == std::string::npos) return std::nullopt;
  auto query = http::parse_query(std::string_view(url).substr(q + 1));
  auto number = [](const std::string& text) -> std::optional<std::int64_t> {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size() || v <= 0) return std::nullopt;
    return v;
  };
  for (const char* name : {"expires", "Expires"}) {
    if (auto it = query.find(name); it != query.end()) return number(it->second);
  }
  // S3 presigned: X-Amz-Date (20240101T120000Z) plus X-Amz-Expires seconds.
  auto date = query.find("X-Amz-Date");
  auto seconds = query.find("X-Amz-Expires");
  if (date == query.end() || seconds == query.end() || date->second.size() != 16) return std::nullopt;
  std::tm tm{};
  if (!strptime(date->second.c_str(), "%Y%m%dT%H%M%SZ", &tm)) return std::nullopt;
  auto lifetime = number(seconds->second);
  if (!lifetime) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm)) + *lifetime;
}

net::awaitable<std::string> Generator::relay(const Job& job, std::string method, std::string type, std::string url,
                                             bool with_caption) {
  auto cap = static_cast<std::uint64_t>(type == "photo" ? std::min(options_.max_photo_bytes, options_.max_upload_bytes)
                                                        : options_.max_upload_bytes);
  std::unique_ptr<http::Download> download;
  try {
    http::ClientRequest get{"GET", url, {}, {}, std::chrono::seconds(60), options_.fetch_policy};
    download = co_await s_.downloads.open(std::move(get));
  } catch (const http::ClientError& e) {
    log::warn("result_download_failed", {{"job_id", job.id}, {"error", e.what()}});
    if (e.kind() == http::ClientError::Kind::refused) co_return kUnsafeResultUrl;
    co_return "failed";
  }
  if (download->status != 200) {
    log::warn("result_download_failed", {{"job_id", job.id}, {"status", download->status}});
    co_return "failed";
  }
  if (download->content_length && *download->content_length > cap) co_return "too_large";
  auto content_type = std::string(download->header("Content-Type").value_or("application/octet-stream"));
  json params = addressed(job);
  if (with_caption) params["caption"] = result_caption(job);
  http::BodySource* source = download.get();
  std::uint64_t size = download->content_length.value_or(0);
  SpooledFile spooled;
  if (!download->content_length) {
    bool fits = false;
    try {
      fits = co_await spooled.fill(download.get(), cap);
    } catch (const http::ClientError& e) {
      log::warn("result_download_failed", {{"job_id", job.id}, {"error", e.what()}});
      co_return "failed";
    }
    if (!fits) co_return "too_large";
    source = &spooled;
    size = spooled.size();
  }
  co_await s_.limiter.acquire(job.chat_id->value(), std::chrono::seconds(30));
  auto uploaded = co_await s_.telegram.upload_streamed(method, std::move(params), type, file_name(url),
                                                       std::move(content_type), size, source);
  Metrics::delivery(method, uploaded.ok ? "upload" : "upload_refused");
  if (!uploaded.ok) {
    log::info("result_upload_failed",
              {{"job_id", job.id}, {"status", uploaded.status}, {"description", uploaded.description}});
    co_return "failed";
  }
  co_return "upload";
}

net::awaitable<std::string> Generator::vet_results(const std::vector<std::string>& urls) {
  for (const auto& url : urls) {
    auto refusal = co_await http::fetch_refusal(url, options_.fetch_policy, std::chrono::seconds(5));
    if (!refusal.empty()) co_return refusal;
  }
  co_return std::string();
}

net::awaitable<std::string> Generator::deliver(const Job& job, const std::vector<std::string>& urls) {
  auto caption = result_caption(job);
  auto chat = *job.chat_id;
  if (urls.empty()) co_return "failed";
  // The catalog says when the original file matters (a transparent PNG, an
  // upscale): sent as a document, which Telegram does not recompress.
  const auto* model = s_.catalog.by_id(job.model);
  bool as_document = model != nullptr && model->deliver == "document";
  auto kind_of = [&](const std::string& url) { return as_document ? std::string("document") : media_type(url); };
  auto type = kind_of(urls.front());
  bool group = urls.size() > 1 && (type == "photo" || type == "video");
  for (const auto& u : urls) group = group && kind_of(u) == type;
  if (group) {
    json media = json::array();
    for (std::size_t i = 0; i < urls.size() && i < 10; ++i) {
      json item = {{"type", type}, {"media", urls[i]}};
      if (i == 0) item["caption"] = caption;
      media.push_back(std::move(item));
    }
    json params = addressed(job);
    params["media"] = std::move(media);
    co_await s_.limiter.acquire(chat.value(), std::chrono::seconds(30));
    auto sent = co_await s_.telegram.call("sendMediaGroup", std::move(params));
    Metrics::delivery("sendMediaGroup", sent.ok ? "ok" : "failed");
    if (sent.ok) co_return "media_group";
  }
  std::string outcome = "url";
  for (std::size_t i = 0; i < urls.size() && i < 10; ++i) {
    const auto& url = urls[i];
    auto item_type = kind_of(url);
    auto method = send_method(item_type);
    json params = addressed(job);
    params[item_type] = url;
    if (i == 0) params["caption"] = caption;
    co_await s_.limiter.acquire(chat.value(), std::chrono::seconds(30));
    auto sent = co_await s_.telegram.call(method, params);
    Metrics::delivery(method, sent.ok ? "url" : "url_refused");
    if (sent.ok) continue;
    log::info("delivery_by_url_refused", {{"job_id", job.id}, {"method", method}, {"description", sent.description}});
    // Telegram could not take the URL (too large, cannot fetch): relay it
    // from here, as it arrives, within what Telegram accepts for its kind.
    auto relayed = co_await relay(job, method, item_type, url, i == 0);
    if (relayed == kUnsafeResultUrl) co_return kUnsafeResultUrl;
    if (relayed == "upload") {
      outcome = "upload";
      continue;
    }
    json link = {{"chat_id", chat}, {"text", link_text(job.language, url)}};
    co_await s_.limiter.acquire(chat.value(), std::chrono::seconds(30));
    auto linked = co_await s_.telegram.call("sendMessage", std::move(link));
    Metrics::delivery("sendMessage", linked.ok ? "link" : "failed");
    outcome = linked.ok ? "links" : "failed";
  }
  co_return outcome;
}

}  // namespace kiebot::generator
