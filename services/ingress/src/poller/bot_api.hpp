// The Bot API calls the poller makes (getUpdates, setWebhook, deleteWebhook),
// with Telegram's answers sorted into what the caller must do next.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "kiebot/http/http.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::http {
class Client;
}

namespace kiebot::ingress {

struct Answer {
  enum class Kind {
    ok,            // 200 with "ok":true; body holds the whole answer
    conflict,      // 409: another getUpdates session, or a webhook is set
    throttled,     // 429: wait retry_after
    unauthorized,  // 401/404: the token is wrong; it never fixes itself
    transient,     // 5xx, timeouts, connection errors: retry with backoff
    rejected,      // any other 4xx: our request is wrong
  };
  Kind kind = Kind::transient;
  int status = 0;           // HTTP status; 0 when no answer came
  std::string description;  // Telegram's, or the transport error
  std::chrono::seconds retry_after{0};
  std::string body;
};

// Sorts an HTTP answer from the Bot API. Pure, for unit tests.
Answer classify(http::Response response);

// The conflict's cause, for the log line on-call engineers read.
enum class ConflictCause { other_poller, webhook_active, unknown };
ConflictCause conflict_cause(const std::string& description);
const char* to_string(ConflictCause cause);

class BotApi {
 public:
  // base: TELEGRAM_API_BASE; token: the bot token (never logged).
  BotApi(http::Client& client, std::string base, std::string token);

  // Calls `method` (a literal: the view must outlive the call) with a JSON body; never throws for HTTP or transport
  // failures (they come back as transient answers).
  net::awaitable<Answer> call(std::string_view method, std::string json_body, std::chrono::milliseconds timeout);

 private:
  http::Client& client_;
  std::string base_;
  std::string token_;
};

}  // namespace kiebot::ingress
