// The sorting of Bot API answers (see bot_api.hpp): pure, apart from the
// calls, so that unit tests and fuzz/ reach it without sockets.
#include "bot_api.hpp"
#include "kiebot/base/json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

namespace kiebot::ingress {

namespace {

// A wait longer than this is a wrong answer, not a plan (and a huge one
// would overflow the clock arithmetic of the poller's sleep).
constexpr std::int64_t kMaxRetryAfterS = 3600;

std::chrono::seconds bounded_seconds(std::int64_t s) {
  return std::chrono::seconds(std::clamp<std::int64_t>(s, 0, kMaxRetryAfterS));
}

std::int64_t header_seconds(std::string_view text) {
  std::int64_t s = 1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), s);
  return ec == std::errc() ? s : (ec == std::errc::result_out_of_range ? kMaxRetryAfterS : 1);
}

}  // namespace

Answer classify(http::Response response) {
  Answer answer;
  answer.status = response.status;
  // Telegram answers 200 exactly when "ok" is true; callers validate the
  // result they read. Not parsing it here matters: a getUpdates answer is
  // up to 100 updates, and building a DOM of it cost more than the scan.
  if (response.status == 200) {
    answer.kind = Answer::Kind::ok;
    answer.body = std::move(response.body);
    return answer;
  }
  nlohmann::json body = parse_untrusted(response.body, {64, 64u << 20});
  if (body.is_object()) {
    // Fields of another type read as absent: a Bot API answer never throws.
    answer.description = string_field(body, "description");
    if (auto params = body.find("parameters"); params != body.end() && params->is_object()) {
      answer.retry_after = bounded_seconds(int_field(*params, "retry_after"));
    }
  }
  if (answer.description.empty()) answer.description = "HTTP " + std::to_string(response.status);
  switch (response.status) {
    case 409:
      answer.kind = Answer::Kind::conflict;
      break;
    case 429:
      answer.kind = Answer::Kind::throttled;
      if (answer.retry_after.count() <= 0) {
        auto header = response.header("Retry-After");
        answer.retry_after = bounded_seconds(header ? header_seconds(*header) : 1);
      }
      answer.retry_after = std::max(answer.retry_after, std::chrono::seconds(1));
      break;
    case 401:
    case 404:  // Telegram answers 404 for a token it cannot even parse
      answer.kind = Answer::Kind::unauthorized;
      break;
    default:
      answer.kind = response.status >= 500 ? Answer::Kind::transient : Answer::Kind::rejected;
  }
  return answer;
}

ConflictCause conflict_cause(const std::string& description) {
  if (description.find("webhook") != std::string::npos) return ConflictCause::webhook_active;
  if (description.find("other getUpdates") != std::string::npos) return ConflictCause::other_poller;
  return ConflictCause::unknown;
}

const char* to_string(ConflictCause cause) {
  switch (cause) {
    case ConflictCause::other_poller:
      return "other_poller";
    case ConflictCause::webhook_active:
      return "webhook_active";
    default:
      return "unknown";
  }
}

}  // namespace kiebot::ingress
