// A gen.jobs message (services/generator job.hpp, docs/jobs.md): parse_job
// gives a job or a reason, never an exception; a job's JSON parses back to
// the same job; its caption is whole UTF-8 of at most 1024 code points when
// the job's own text is.
#include "check.hpp"
#include "job.hpp"

namespace gen = kiebot::generator;

namespace {

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

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
  FUZZ_CHECK(code_points(caption) <= 1024);
  return 0;
}
