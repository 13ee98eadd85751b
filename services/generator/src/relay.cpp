// Results Telegram could not fetch by URL, downloaded and uploaded as they
// arrive (never whole in memory): a photo beyond Telegram's limits, as its
// first bytes or its length show, goes as a document; and an audio's cover,
// fetched to be uploaded as its thumbnail.
#include "delivery.hpp"
#include "generator.hpp"
#include "generator_metrics.hpp"
#include "kiebot/base/image_size.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/redis/rate_limiter.hpp"
#include "kiebot/telegram/telegram.hpp"

#include <cstdio>
#include <memory>

namespace kiebot::generator {

using nlohmann::json;

namespace {

constexpr std::size_t kHeadBytes = 64 * 1024;  // enough for an image's dimensions

std::string file_name(const std::string& url) {
  auto path = url.substr(0, url.find('?'));
  auto slash = path.rfind('/');
  auto name = slash == std::string::npos ? path : path.substr(slash + 1);
  return name.empty() ? "result" : name;
}

// Bytes read already (a download's head, a cover), then the rest of `tail`.
class PrefixedSource final : public http::BodySource {
 public:
  PrefixedSource(std::string head, http::BodySource* tail) : head_(std::move(head)), tail_(tail) {}
  net::awaitable<std::size_t> read(char* data, std::size_t size) override {
    if (at_ < head_.size()) {
      auto n = std::min(size, head_.size() - at_);
      std::copy_n(head_.data() + at_, n, data);
      at_ += n;
      co_return n;
    }
    if (tail_ == nullptr) co_return 0;
    co_return co_await tail_->read(data, size);
  }

 private:
  std::string head_;
  std::size_t at_ = 0;
  http::BodySource* tail_;
};

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

// Up to `limit` bytes of `source` (fewer when it ends first).
net::awaitable<std::string> read_up_to(http::BodySource* source, std::size_t limit) {
  std::string out;
  std::vector<char> chunk(16 * 1024);
  while (out.size() < limit) {
    auto n = co_await source->read(chunk.data(), std::min(chunk.size(), limit - out.size()));
    if (n == 0) break;
    out.append(chunk.data(), n);
  }
  co_return out;
}

}  // namespace

net::awaitable<Delivery> Generator::relay(const Job& job, std::string type, std::string url, json params) {
  std::unique_ptr<http::Download> download;
  std::string head;
  try {
    http::ClientRequest get{"GET", url, {}, {}, std::chrono::seconds(60), options_.fetch_policy};
    download = co_await s_.downloads.open(std::move(get));
    if (download->status == 200) head = co_await read_up_to(download.get(), kHeadBytes);
  } catch (const http::ClientError& e) {
    log::warn("result_download_failed", {{"job_id", job.id}, {"error", e.what()}});
    co_return Delivery{e.kind() == http::ClientError::Kind::refused ? kUnsafeResultUrl : "failed", 0, 0};
  }
  if (download->status != 200) {
    log::warn("result_download_failed", {{"job_id", job.id}, {"status", download->status}});
    co_return Delivery{"failed", 0, 0};
  }
  auto photo_cap = std::min<std::uint64_t>(options_.max_photo_bytes, options_.max_upload_bytes);
  auto dimensions = type == "photo" ? image_size(head) : std::nullopt;
  // Decided before sending when the bytes tell: beyond a photo's limits, a document.
  if (type == "photo" && ((download->content_length && *download->content_length > photo_cap) ||
                          (dimensions && !photo_dimensions_ok(*dimensions)))) {
    type = "document";
  }
  auto cap = static_cast<std::uint64_t>(options_.max_upload_bytes);
  if (download->content_length && *download->content_length > cap) co_return Delivery{"too_large", 0, 0};
  auto content_type = std::string(download->header("Content-Type").value_or("application/octet-stream"));
  PrefixedSource whole(std::move(head), download.get());
  http::BodySource* source = &whole;
  std::uint64_t size = download->content_length.value_or(0);
  SpooledFile spooled;
  if (!download->content_length) {
    bool fits = false;
    try {
      fits = co_await spooled.fill(&whole, cap);
    } catch (const http::ClientError& e) {
      log::warn("result_download_failed", {{"job_id", job.id}, {"error", e.what()}});
      co_return Delivery{"failed", 0, 0};
    }
    if (!fits) co_return Delivery{"too_large", 0, 0};
    source = &spooled;
    size = spooled.size();
    if (type == "photo" && size > photo_cap) type = "document";
  }
  auto name = file_name(url);
  auto uploaded = co_await upload(job, std::move(type), std::move(name), std::move(content_type), size, source,
                                  std::move(params));
  co_return uploaded;
}

net::awaitable<Delivery> Generator::upload(const Job& job, std::string type, std::string name,
                                           std::string content_type, std::uint64_t size, http::BodySource* source,
                                           json params) {
  auto method = send_method(type);
  co_await s_.limiter.acquire(job.chat_id->value(), std::chrono::seconds(30));
  auto uploaded = co_await s_.telegram.upload_streamed(method, std::move(params), type, std::move(name),
                                                       std::move(content_type), size, source);
  Metrics::delivery(method, uploaded.ok ? "upload" : "upload_refused");
  if (uploaded.ok) co_return Delivery{type == "document" ? "document" : "upload", 0, 0};
  log::info("result_upload_failed",
            {{"job_id", job.id}, {"status", uploaded.status}, {"description", uploaded.description}});
  auto why = refusal_of(uploaded, method);
  if (why == Refusal::photo_unfit) co_return Delivery{"photo_unfit", 0, 0};
  if (why == Refusal::chat_unavailable || why == Refusal::flood) co_return ending(why, uploaded, 0);
  co_return Delivery{"failed", 0, 0};
}

net::awaitable<std::optional<std::string>> Generator::fetch_cover(std::string url) {
  try {
    http::ClientRequest get{"GET", url, {}, {}, std::chrono::seconds(10), options_.fetch_policy};
    auto download = co_await s_.downloads.open(std::move(get));
    if (download->status != 200 || (download->content_length && *download->content_length >= kMaxThumbnailBytes)) {
      co_return std::nullopt;
    }
    auto bytes = co_await read_up_to(download.get(), kMaxThumbnailBytes);
    auto size = image_size(bytes);
    // Telegram takes no other thumbnail (and this service resizes nothing).
    if (!size || !thumbnail_ok(*size, bytes.size())) co_return std::nullopt;
    co_return bytes;
  } catch (const http::ClientError& e) {
    log::info("cover_download_failed", {{"error", e.what()}});
  }
  co_return std::nullopt;
}

net::awaitable<telegram::Result> Generator::send_audio_with_cover(const Job& job, std::string url, json params,
                                                                  std::string cover_url) {
  auto cover = co_await fetch_cover(std::move(cover_url));
  Metrics::delivery("thumbnail", cover ? "attached" : "unusable");
  std::string audio = "audio";  // (no temporaries inside a co_await: g++ 12 destroys them twice)
  if (!cover) co_return co_await send_by_url(job, std::move(audio), std::move(url), std::move(params));
  // The audio by URL and its thumbnail uploaded alongside (Telegram takes a
  // thumbnail only as a multipart upload).
  params["audio"] = std::move(url);
  params["thumbnail"] = "attach://cover";
  auto size = cover->size();
  PrefixedSource bytes(std::move(*cover), nullptr);
  co_await s_.limiter.acquire(job.chat_id->value(), std::chrono::seconds(30));
  std::string field = "cover", name = "cover.jpg", type = "image/jpeg";
  auto sent = co_await s_.telegram.upload_streamed("sendAudio", std::move(params), std::move(field), std::move(name),
                                                   std::move(type), size, &bytes);
  Metrics::delivery("sendAudio", sent.ok ? "url" : "url_refused");
  if (!sent.ok) log::info("delivery_by_url_refused", {{"job_id", job.id}, {"method", "sendAudio"}, {"description", sent.description}});
  co_return sent;
}

}  // namespace kiebot::generator
