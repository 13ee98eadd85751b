// Helpers shared by the accounts store's files (store.cpp, store_admin.cpp):
// the global keys, user key tags and script replies read as Outcomes.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "kiebot/base/ids.hpp"
#include "store.hpp"

namespace kiebot::redis {
struct Reply;
}

namespace kiebot::accounts::detail {

// Global keys: each is its own cluster slot and is written by a separate
// command after the user's script, so they are best-effort views; the
// per-user keys are the source of truth.
inline constexpr const char* kStats = "accounts:stats";
inline constexpr const char* kAdmins = "accounts:admins";
inline constexpr const char* kExpiry = "accounts:hold_expiry";
inline constexpr const char* kAudit = "accounts:audit";  // the last audit's summary

// "{u:<id>}": the hash tag of a user's keys.
std::string user_tag(UserId user_id);
// A script's {status, k1, v1, ...} reply as an Outcome; throws on an error reply.
Outcome outcome(const redis::Reply& reply);
// An integer field of a script's answer, 0 when absent.
std::int64_t field(const nlohmann::json& body, const char* name);
// Now, in Unix milliseconds, as a script argument.
std::string now_text();

}  // namespace kiebot::accounts::detail
