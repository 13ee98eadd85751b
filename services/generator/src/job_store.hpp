// Jobs in Redis: the record that makes a job id start once, the sorted set
// of unfinished jobs by next check time, and expiring claims that let any
// replica continue a job another replica left (docs/generator.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kiebot/base/clock.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::redis {
class Client;
}

namespace kiebot::generator {

using Fields = std::map<std::string, std::string>;

struct Claimed {
  std::string job_id;
  // The previous claim expired instead of being handed back: the replica
  // that held it died or stalled, and this one continues its job.
  bool taken_over = false;
};

class JobStore {
 public:
  JobStore(redis::Client& redis, std::string owner, std::chrono::milliseconds claim_ttl);

  // Records a new job as "accepted" and due now; false when the id was seen
  // before (the job is not started again).
  net::awaitable<bool> record(std::string job_id, std::string job_json, std::int64_t deadline_ms);
  // Claims up to `limit` due jobs for claim_ttl; a claimed job stays in the
  // due set with the claim's expiry as its time, so a replica that dies
  // leaves it due again once the claim has expired.
  net::awaitable<std::vector<Claimed>> claim_due(std::size_t limit);
  // The job's fields, or nothing when it is gone.
  net::awaitable<std::optional<Fields>> load(std::string job_id);
  // Sets fields while this replica holds the claim; false when it does not
  // (it expired and another replica may have the job): the caller stops.
  net::awaitable<bool> update(std::string job_id, Fields fields);
  // Hands the job back, due at `due_ms` (sooner when a callback arrived
  // meanwhile); false when the claim was no longer ours.
  net::awaitable<bool> reschedule(std::string job_id, std::int64_t due_ms);
  // Extends the claim (and the job's due time with it) while a long step
  // runs; false when the claim is no longer ours.
  net::awaitable<bool> extend(std::string job_id);
  // The job is finished: out of the due set, claim dropped.
  net::awaitable<void> finish(std::string job_id);
  // A KIE callback: check the job now, noting the task id the callback
  // named (unverified). False for unknown or finished jobs.
  net::awaitable<bool> poke(std::string job_id, std::string task_id);
  // Unfinished jobs across all replicas.
  net::awaitable<std::int64_t> pending();

  static std::string job_key(const std::string& job_id);
  static const char* due_key();

 private:
  redis::Client& redis_;
  std::string owner_;
  std::chrono::milliseconds claim_ttl_;

 public:
  std::chrono::milliseconds claim_ttl() const { return claim_ttl_; }
};

}  // namespace kiebot::generator
