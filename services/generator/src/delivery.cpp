// Delivering results to the user's chat: by URL with the method their type
// needs (a photo Telegram refuses goes as a document), else relayed
// (relay.cpp), else as a link; a blocked bot or a gone chat ends the
// delivery, a long flood wait puts it off; and the chat's status message.
#include "delivery.hpp"

#include "generator.hpp"
#include "generator_metrics.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/base/text.hpp"
#include "kiebot/catalog/catalog.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/redis/rate_limiter.hpp"
#include "kiebot/telegram/telegram.hpp"
#include "messages.hpp"

#include <cctype>
#include <charconv>
#include <ctime>

namespace kiebot::generator {

using nlohmann::json;

namespace {

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

}  // namespace

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

Refusal refusal_of(const telegram::Result& sent, std::string_view method) {
  if (sent.ok) return Refusal::none;
  const auto& d = sent.description;
  if (sent.status == 429) return Refusal::flood;
  if (sent.status == 403 || (sent.status == 400 && d.find("chat not found") != std::string::npos)) {
    return Refusal::chat_unavailable;
  }
  bool photo = method == "sendPhoto";
  if (photo && (sent.status == 413 || d.find("PHOTO_INVALID_DIMENSIONS") != std::string::npos ||
                d.find("PHOTO_SAVE_FILE_INVALID") != std::string::npos || d.find("file is too big") != std::string::npos ||
                d.find("IMAGE_PROCESS_FAILED") != std::string::npos)) {
    return Refusal::photo_unfit;
  }
  return Refusal::other;
}

Delivery ending(Refusal why, const telegram::Result& sent, std::size_t next) {
  if (why == Refusal::chat_unavailable) return {"chat_unavailable", next, 0};
  if (why == Refusal::flood) return {"later", next, std::max<std::int64_t>(sent.retry_after_s, 1)};
  return {};
}

json item_params(const Job& job, const std::string& type, std::size_t index, const ResultInfo* info) {
  json params = {{"chat_id", *job.chat_id}};
  if (job.reply_to_message_id) {
    params["reply_parameters"] = {{"message_id", *job.reply_to_message_id}, {"allow_sending_without_reply", true}};
  }
  if (index == 0) params["caption"] = result_caption(job);
  if (type == "audio" && info != nullptr) {
    // Shown as "performer – title" in the player; the title is outside input.
    auto title = text::fit(text::clean(info->title), 128);
    if (!title.empty()) {
      params["title"] = title;
      params["performer"] = "Suno";
    }
    if (info->duration_s > 0) params["duration"] = info->duration_s;
  }
  return params;
}

json info_to_json(const std::vector<ResultInfo>& info) {
  json out = json::array();
  for (const auto& i : info) out.push_back({{"title", i.title}, {"cover_url", i.cover_url}, {"duration_s", i.duration_s}});
  return out;
}

std::vector<ResultInfo> info_from_json(const json& saved) {
  std::vector<ResultInfo> out;
  if (!saved.is_array()) return out;
  for (const auto& i : saved) {
    if (!i.is_object()) return {};
    out.push_back({i.value("title", ""), i.value("cover_url", ""), i.value("duration_s", std::int64_t{0})});
  }
  return out;
}

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

net::awaitable<std::string> Generator::vet_results(const std::vector<std::string>& urls) {
  for (const auto& url : urls) {
    auto refusal = co_await http::fetch_refusal(url, options_.fetch_policy, std::chrono::seconds(5));
    if (!refusal.empty()) co_return refusal;
  }
  co_return std::string();
}

net::awaitable<telegram::Result> Generator::send_by_url(const Job& job, std::string type, std::string url,
                                                        json params) {
  auto method = send_method(type);
  params[type] = std::move(url);
  co_await s_.limiter.acquire(job.chat_id->value(), std::chrono::seconds(30));
  auto sent = co_await s_.telegram.call(method, std::move(params), kDeliveryPatience);
  Metrics::delivery(method, sent.ok ? "url" : "url_refused");
  if (!sent.ok) log::info("delivery_by_url_refused", {{"job_id", job.id}, {"method", method}, {"description", sent.description}});
  co_return sent;
}

net::awaitable<Delivery> Generator::deliver_item(const Job& job, std::string url, std::string type, json params,
                                                 ResultInfo info, std::size_t index) {
  telegram::Result sent;
  if (type == "audio" && !info.cover_url.empty()) {
    sent = co_await send_audio_with_cover(job, url, params, info.cover_url);
  } else {
    sent = co_await send_by_url(job, type, url, params);
  }
  if (sent.ok) co_return Delivery{"url", index + 1, 0};
  auto why = refusal_of(sent, send_method(type));
  if (why == Refusal::chat_unavailable || why == Refusal::flood) co_return ending(why, sent, index);
  if (why == Refusal::photo_unfit) {
    // Beyond a photo's limits: the original file as a document instead.
    type = "document";
    sent = co_await send_by_url(job, type, url, params);
    if (sent.ok) co_return Delivery{"document", index + 1, 0};
    why = refusal_of(sent, "sendDocument");
    if (why == Refusal::chat_unavailable || why == Refusal::flood) co_return ending(why, sent, index);
  }
  // Telegram could not take the URL (too large, cannot fetch): relay it
  // from here, as it arrives, within what Telegram accepts for its kind.
  auto relayed = co_await relay(job, type, url, params);
  if (relayed.outcome == "photo_unfit") {
    std::string document = "document";  // (no temporary inside a co_await: see deliver)
    relayed = co_await relay(job, std::move(document), url, params);
  }
  relayed.next = index + (relayed.outcome == "later" || relayed.outcome == "chat_unavailable" ? 0 : 1);
  if (relayed.outcome != "too_large" && relayed.outcome != "failed") co_return relayed;
  json link = {{"chat_id", *job.chat_id}, {"text", link_text(job.language, url)}};
  co_await s_.limiter.acquire(job.chat_id->value(), std::chrono::seconds(30));
  auto linked = co_await s_.telegram.call("sendMessage", std::move(link), kDeliveryPatience);
  Metrics::delivery("sendMessage", linked.ok ? "link" : "failed");
  why = refusal_of(linked, "sendMessage");
  if (why == Refusal::chat_unavailable || why == Refusal::flood) co_return ending(why, linked, index);
  co_return Delivery{linked.ok ? "links" : "failed", index + 1, 0};
}

net::awaitable<Delivery> Generator::deliver(const Job& job, std::vector<std::string> urls,
                                            std::vector<ResultInfo> info, std::size_t first) {
  if (urls.empty()) co_return Delivery{"failed", 0, 0};
  // The catalog says when the original file matters (a transparent PNG, an
  // upscale): sent as a document, which Telegram does not recompress.
  const auto* model = s_.catalog.by_id(job.model);
  bool as_document = model != nullptr && model->deliver == "document";
  auto kind_of = [&](const std::string& url) { return as_document ? std::string("document") : media_type(url); };
  auto type = kind_of(urls.front());
  bool group = first == 0 && urls.size() > 1 && (type == "photo" || type == "video");
  for (const auto& u : urls) group = group && kind_of(u) == type;
  if (group) {
    json media = json::array();
    for (std::size_t i = 0; i < urls.size() && i < 10; ++i) {
      json item = {{"type", type}, {"media", urls[i]}};
      if (i == 0) item["caption"] = result_caption(job);
      media.push_back(std::move(item));
    }
    json params = item_params(job, type, 1, nullptr);
    params["media"] = std::move(media);
    co_await s_.limiter.acquire(job.chat_id->value(), std::chrono::seconds(30));
    auto sent = co_await s_.telegram.call("sendMediaGroup", std::move(params), kDeliveryPatience);
    Metrics::delivery("sendMediaGroup", sent.ok ? "ok" : "failed");
    if (sent.ok) co_return Delivery{"media_group", urls.size(), 0};
    auto why = refusal_of(sent, "sendMediaGroup");
    if (why == Refusal::chat_unavailable || why == Refusal::flood) co_return ending(why, sent, 0);
  }
  Delivery outcome{"url", first, 0};
  for (std::size_t i = first; i < urls.size() && i < 10; ++i) {
    auto item_type = kind_of(urls[i]);
    const ResultInfo* about = i < info.size() ? &info[i] : nullptr;
    auto params = item_params(job, item_type, i, about);
    // (Named, not a ?: temporary inside the co_await: g++ 12 destroys it twice.)
    ResultInfo item_info;
    if (about != nullptr) item_info = *about;
    auto sent = co_await deliver_item(job, urls[i], item_type, std::move(params), std::move(item_info), i);
    if (sent.outcome == kUnsafeResultUrl || sent.outcome == "later" || sent.outcome == "chat_unavailable") co_return sent;
    // The way the last one went, unless an earlier one needed a link or failed.
    if (outcome.outcome != "links" && outcome.outcome != "failed") outcome.outcome = sent.outcome;
    if (sent.outcome == "failed") outcome.outcome = "failed";
    outcome.next = i + 1;
  }
  co_return outcome;
}

}  // namespace kiebot::generator
