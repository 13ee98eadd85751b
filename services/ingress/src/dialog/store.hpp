// The dialog's Redis state: each chat's conversation (with a TTL, so any
// replica continues any chat), handled update ids, and each user's
// generations (history, running ones, the duplicate-submission window).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kiebot/runtime/net.hpp"
#include "machine/records.hpp"

namespace kiebot::redis {
class Client;
}

namespace kiebot::dialog {

class Store {
 public:
  Store(redis::Client& redis, std::chrono::seconds state_ttl);

  // The chat's state; an empty object when there is none (or it expired).
  net::awaitable<nlohmann::json> load_state(std::int64_t chat_id);
  net::awaitable<void> save_state(std::int64_t chat_id, nlohmann::json state);

  net::awaitable<bool> handled(std::int64_t update_id);
  net::awaitable<void> mark_handled(std::int64_t update_id);

  // False when the same fingerprint was claimed within `window` by another
  // job (the same job retrying its update is let through).
  net::awaitable<bool> claim_submission(std::int64_t user_id, std::string fingerprint, std::chrono::seconds window,
                                        std::string job_id);
  net::awaitable<std::int64_t> running_count(std::int64_t user_id);
  net::awaitable<void> record_job(std::int64_t user_id, JobRecord job);
  net::awaitable<void> finish_job(std::int64_t user_id, std::string job_id, std::string status);
  // Newest first.
  net::awaitable<std::vector<JobRecord>> history(std::int64_t user_id, std::size_t limit);
  net::awaitable<std::vector<JobRecord>> running(std::int64_t user_id);
  net::awaitable<std::optional<JobRecord>> job(std::int64_t user_id, std::string job_id);

 private:
  net::awaitable<std::vector<JobRecord>> load_jobs(std::int64_t user_id, std::vector<std::string> ids);

  redis::Client& redis_;
  std::chrono::seconds state_ttl_;
};

}  // namespace kiebot::dialog
