// Job parsing and validation (docs/jobs.md).
#include "job.hpp"
#include "kiebot/base/json.hpp"
#include "kiebot/base/text.hpp"

#include <cctype>

namespace kiebot::generator {

namespace {

using nlohmann::json;

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (unsigned char c : id) {
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.' && c != ':') return false;
  }
  return true;
}

std::optional<std::int64_t> optional_id(const json& j, const char* name, std::string& error) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) {
    error = std::string(name) + ": must be an integer";
    return std::nullopt;
  }
  return it->get<std::int64_t>();
}

}  // namespace

std::variant<Job, std::string> parse_job(std::string_view text) {
  auto j = parse_untrusted(text);
  if (j.is_discarded() || !j.is_object()) return std::string("not a JSON object");
  if (!j.contains("v") || j["v"] != 1) return std::string("v: must be 1");
  Job job;
  if (!j.contains("job_id") || !j["job_id"].is_string()) return std::string("job_id: required, a string");
  job.id = j["job_id"].get<std::string>();
  if (!valid_id(job.id)) return std::string("job_id: 1-64 of A-Za-z0-9_.:-");
  if (!j.contains("model") || !j["model"].is_string() || j["model"].get<std::string>().empty()) {
    return std::string("model: required, a string");
  }
  job.model = j["model"].get<std::string>();
  if (!j.contains("input") || !j["input"].is_object()) return std::string("input: required, an object");
  job.input = j["input"];
  // `created_at` and `locale` are the names the dialog's issue gave these
  // fields; both spellings are accepted.
  const char* created = j.contains("created_ms") ? "created_ms" : "created_at";
  if (!j.contains(created) || !j[created].is_number_integer()) {
    return std::string("created_ms: required, an integer (Unix ms)");
  }
  job.created_ms = j[created].get<std::int64_t>();
  if (j.contains("deadline_s")) {
    if (!j["deadline_s"].is_number_integer()) return std::string("deadline_s: must be an integer");
    job.deadline_s = j["deadline_s"].get<std::int64_t>();
    if (job.deadline_s < 10 || job.deadline_s > 86'400) return std::string("deadline_s: 10-86400");
  }
  std::string error;
  if (auto id = optional_id(j, "user_id", error)) job.user_id = UserId(*id);
  if (auto id = optional_id(j, "chat_id", error)) job.chat_id = ChatId(*id);
  job.status_message_id = optional_id(j, "status_message_id", error);
  job.reply_to_message_id = optional_id(j, "reply_to_message_id", error);
  if (!error.empty()) return error;
  const char* language = j.contains("language") ? "language" : "locale";
  if (j.contains(language)) {
    if (!j[language].is_string()) return std::string("language: ru or en");
    job.language = j[language].get<std::string>();
    if (job.language != "ru" && job.language != "en") return std::string("language: ru or en");
  }
  if (j.contains("hold_id") && !j["hold_id"].is_null()) {
    if (!j["hold_id"].is_string() || j["hold_id"].get<std::string>().empty()) return std::string("hold_id: a string");
    job.hold_id = HoldId(j["hold_id"].get<std::string>());
  }
  if ((job.chat_id || job.hold_id) && !job.user_id) return std::string("user_id: required with chat_id or hold_id");
  if (j.contains("caption")) {
    if (!j["caption"].is_string()) return std::string("caption: must be a string");
    job.caption = j["caption"].get<std::string>();
  }
  if (j.contains("source") && j["source"].is_string()) job.source = j["source"].get<std::string>();
  return job;
}

json Job::to_json() const {
  json j = {{"v", 1},
            {"job_id", id},
            {"model", model},
            {"input", input},
            {"created_ms", created_ms},
            {"deadline_s", deadline_s},
            {"language", language}};
  if (user_id) j["user_id"] = *user_id;
  if (chat_id) j["chat_id"] = *chat_id;
  if (hold_id) j["hold_id"] = *hold_id;
  if (status_message_id) j["status_message_id"] = *status_message_id;
  if (reply_to_message_id) j["reply_to_message_id"] = *reply_to_message_id;
  if (!caption.empty()) j["caption"] = caption;
  if (!source.empty()) j["source"] = source;
  return j;
}

std::string result_caption(const Job& job) {
  std::string caption = job.caption;
  if (caption.empty()) {
    caption = job.model;
    if (job.input.contains("prompt") && job.input["prompt"].is_string()) {
      caption += ": " + job.input["prompt"].get<std::string>();
    }
  }
  // A publisher's caption and a user's prompt: shown as plain text, cleaned
  // of what would change how it reads, within Telegram's caption limit.
  return text::fit(text::clean(caption), text::kMaxCaption);
}

}  // namespace kiebot::generator
