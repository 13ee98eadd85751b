// Delivering a result to the user's chat: by URL with the method its type
// needs, else downloaded and uploaded, else as a link; and editing the
// chat's status message.
#include "generator.hpp"
#include "generator_metrics.hpp"
#include "kiebot/common/http_client.hpp"
#include "kiebot/common/log.hpp"
#include "kiebot/common/rate_limiter.hpp"
#include "messages.hpp"
#include "kiebot/common/telegram.hpp"

#include <cctype>

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
  co_await s_.limiter.acquire(*job.chat_id, std::chrono::seconds(30));
  auto edited = co_await s_.telegram.call("editMessageText", std::move(params), std::chrono::seconds(5));
  if (!edited.ok) log::info("status_edit_failed", {{"job_id", job.id}, {"description", edited.description}});
}

net::awaitable<std::string> Generator::deliver(const Job& job, const std::vector<std::string>& urls) {
  auto caption = result_caption(job);
  auto chat = *job.chat_id;
  if (urls.empty()) co_return "failed";
  auto type = media_type(urls.front());
  bool group = urls.size() > 1 && (type == "photo" || type == "video");
  for (const auto& u : urls) group = group && media_type(u) == type;
  if (group) {
    json media = json::array();
    for (std::size_t i = 0; i < urls.size() && i < 10; ++i) {
      json item = {{"type", type}, {"media", urls[i]}};
      if (i == 0) item["caption"] = caption;
      media.push_back(std::move(item));
    }
    json params = addressed(job);
    params["media"] = std::move(media);
    co_await s_.limiter.acquire(chat, std::chrono::seconds(30));
    auto sent = co_await s_.telegram.call("sendMediaGroup", std::move(params));
    Metrics::delivery("sendMediaGroup", sent.ok ? "ok" : "failed");
    if (sent.ok) co_return "media_group";
  }
  std::string outcome = "url";
  for (std::size_t i = 0; i < urls.size() && i < 10; ++i) {
    const auto& url = urls[i];
    auto item_type = media_type(url);
    auto method = send_method(item_type);
    json params = addressed(job);
    params[item_type] = url;
    if (i == 0) params["caption"] = caption;
    co_await s_.limiter.acquire(chat, std::chrono::seconds(30));
    auto sent = co_await s_.telegram.call(method, params);
    Metrics::delivery(method, sent.ok ? "url" : "url_refused");
    if (sent.ok) continue;
    log::info("delivery_by_url_refused", {{"job_id", job.id}, {"method", method}, {"description", sent.description}});
    // Telegram could not take the URL (too large, cannot fetch): download
    // it here and upload it, within the bot upload limit.
    std::optional<http::Response> file;
    try {
      http::ClientRequest get{"GET", url, {}, {}, std::chrono::seconds(60)};
      file = co_await s_.downloads.send(std::move(get));
    } catch (const http::ClientError& e) {
      log::warn("result_download_failed", {{"job_id", job.id}, {"error", e.what()}});
    }
    if (file && file->status == 200 && file->body.size() <= options_.max_upload_bytes) {
      auto content_type = std::string(file->header("Content-Type").value_or("application/octet-stream"));
      json upload_params = addressed(job);
      if (i == 0) upload_params["caption"] = caption;
      co_await s_.limiter.acquire(chat, std::chrono::seconds(30));
      auto uploaded = co_await s_.telegram.upload(method, std::move(upload_params), item_type, file_name(url),
                                                  std::move(content_type), std::move(file->body));
      Metrics::delivery(method, uploaded.ok ? "upload" : "upload_refused");
      if (uploaded.ok) {
        outcome = "upload";
        continue;
      }
    }
    json link = {{"chat_id", chat}, {"text", message(job.language, "links") + "\n" + url}};
    co_await s_.limiter.acquire(chat, std::chrono::seconds(30));
    auto linked = co_await s_.telegram.call("sendMessage", std::move(link));
    Metrics::delivery("sendMessage", linked.ok ? "link" : "failed");
    outcome = linked.ok ? "links" : "failed";
  }
  co_return outcome;
}

}  // namespace kiebot::generator
