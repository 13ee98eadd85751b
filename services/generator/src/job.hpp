// A generation job as published on gen.jobs (docs/jobs.md), and its checks.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "kiebot/base/ids.hpp"

namespace kiebot::generator {

struct Job {
  std::string id;
  std::string model;
  nlohmann::json input;  // an object, passed to KIE unchanged
  std::int64_t created_ms = 0;
  std::int64_t deadline_s = 900;
  std::optional<UserId> user_id;
  std::optional<ChatId> chat_id;
  std::string language = "ru";
  std::optional<HoldId> hold_id;
  std::optional<std::int64_t> status_message_id;
  std::optional<std::int64_t> reply_to_message_id;  // the result answers this message
  std::string caption;
  std::string source;

  std::int64_t deadline_ms() const { return created_ms + deadline_s * 1000; }
  nlohmann::json to_json() const;
};

// The job, or the reason it is invalid ("job_id: required"). Pure.
std::variant<Job, std::string> parse_job(std::string_view text);

// The caption shown with a result: the job's, else "<model>: <prompt>",
// cut to Telegram's 1024 characters (UTF-8 safe).
std::string result_caption(const Job& job);

}  // namespace kiebot::generator
