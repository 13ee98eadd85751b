// A gen.jobs message (services/generator job.hpp, docs/jobs.md): parse_job
// gives a job or a reason, never an exception; a job's JSON parses back to
// the same job; its caption is valid UTF-8 of at most 1024 UTF-16 units
// (Telegram's caption limit) without controls or bidi overrides, whatever
// the job's text.
#include "job.hpp"
#include "check.hpp"
#include "kiebot/base/text.hpp"

namespace gen = kiebot::generator;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto parsed = gen::parse_job(kiebot::fuzz::as_text(data, size));
  if (auto* reason = std::get_if<std::string>(&parsed)) {
    FUZZ_CHECK(!reason->empty());
    return 0;
  }
  const auto& job = std::get<gen::Job>(parsed);
  FUZZ_CHECK(!job.id.empty() && job.id.size() <= 64 && !job.model.empty() && job.input.is_object());
  FUZZ_CHECK(job.deadline_s >= 10 && job.deadline_s <= 86'400);
  FUZZ_CHECK(job.language == "ru" || job.language == "en");
  FUZZ_CHECK(job.user_id || (!job.chat_id && !job.hold_id));
  auto text = job.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto again = gen::parse_job(text);
  FUZZ_CHECK(std::holds_alternative<gen::Job>(again));
  FUZZ_CHECK(std::get<gen::Job>(again).to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) ==
             text);
  auto caption = gen::result_caption(job);
  FUZZ_CHECK(kiebot::text::utf16_length(caption) <= kiebot::text::kMaxCaption);
  FUZZ_CHECK(caption.find("\u202E") == std::string::npos && caption.find('\r') == std::string::npos);
  (void)nlohmann::json(caption).dump();  // valid UTF-8, or this throws
  return 0;
}
