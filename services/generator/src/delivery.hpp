// How a result reaches the chat, sorted from Telegram's answers: pure, so
// unit tests read Telegram's errors without sockets (delivery.cpp and
// relay.cpp do the I/O).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "job.hpp"
#include "kie_answers.hpp"

namespace kiebot::telegram {
struct Result;
}

namespace kiebot::generator {

// What sending results ended with.
struct Delivery {
  // url, upload, document, media_group, links: sent (the last item's way;
  // "links" when one went as a link); failed; unsafe_result_url (a download
  // was refused by the fetch policy); chat_unavailable (the user blocked
  // the bot or the chat is gone: nothing more can be sent there); later
  // (a flood wait longer than a step should hold: send again after it).
  std::string outcome;
  std::size_t next = 0;            // "later": the first result still to send
  std::int64_t retry_after_s = 0;  // "later": Telegram's retry_after
};

// Why Telegram did not take a message.
enum class Refusal {
  none,              // it did
  photo_unfit,       // a photo beyond its limits (dimensions, size): send it as a document
  chat_unavailable,  // 403 (blocked, deactivated) or 400 chat not found
  flood,             // 429: retry_after_s says when
  other,
};
Refusal refusal_of(const telegram::Result& sent, std::string_view method);
// The outcome for a refusal that ends the delivery (chat_unavailable, flood); "" otherwise.
Delivery ending(Refusal why, const telegram::Result& sent, std::size_t next);

// A flood wait up to this long is waited out in the step; a longer one
// reschedules the delivery.
inline constexpr std::chrono::seconds kDeliveryPatience{10};
// A delivery put off this many times (Telegram still asking to wait) gives up.
inline constexpr std::int64_t kMaxDeliveryWaits = 30;

// The send parameters of result `index` besides the file itself: the chat,
// the caption on the first, and an audio's title, performer and duration.
nlohmann::json item_params(const Job& job, const std::string& type, std::size_t index, const ResultInfo* info);

// "photo", "video", "audio" or "document" from a URL's extension.
std::string media_type(const std::string& url);
std::string send_method(const std::string& type);

// The per-result metadata saved with a job's result URLs (and read back).
nlohmann::json info_to_json(const std::vector<ResultInfo>& info);
std::vector<ResultInfo> info_from_json(const nlohmann::json& saved);

}  // namespace kiebot::generator
