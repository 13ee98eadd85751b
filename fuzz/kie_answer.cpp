// KIE's answers (services/generator kie_answers.hpp): createTask,
// recordInfo and every API family's status bodies with any HTTP status. Never an exception; a created
// task has an id; a success has result URLs; a check that failed says why.
#include "check.hpp"
#include "kie_answers.hpp"

namespace gen = kiebot::generator;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  if (size < 1) return 0;
  // The first byte picks the HTTP status: mostly 200, as KIE answers errors.
  static constexpr int kStatuses[] = {200, 200, 200, 200, 401, 402, 404, 422, 429, 455, 500, 502, 503, 0, 301, 201};
  int status = kStatuses[data[0] % 16];
  std::string body(kiebot::fuzz::as_text(data + 1, size - 1));

  auto created = gen::classify_create(status, body);
  FUZZ_CHECK(!created.message.empty());
  if (created.kind == gen::Submitted::Kind::created) FUZZ_CHECK(!created.task_id.empty());
  if (status == 401) FUZZ_CHECK(created.kind == gen::Submitted::Kind::unauthorized);

  // Every family's status parser reads the same bodies.
  for (const auto& state : {gen::parse_record_info(status, body), gen::parse_suno_record(status, body),
                            gen::parse_veo_record(status, body), gen::parse_runway_record(status, body),
                            gen::parse_gpt4o_image_record(status, body), gen::parse_flux_kontext_record(status, body),
                            gen::parse_midjourney_record(status, body)}) {
    using Kind = gen::TaskState::Kind;
    switch (state.kind) {
      case Kind::success:
        FUZZ_CHECK(!state.result_urls.empty() && state.result_urls.size() <= 10);
        FUZZ_CHECK(state.result_info.empty() || state.result_info.size() == state.result_urls.size());
        break;
      case Kind::fail:
        FUZZ_CHECK(!state.fail_code.empty() || state.state == "fail");
        break;
      case Kind::unknown:
        FUZZ_CHECK(!state.error.empty());
        break;
      case Kind::pending:
        FUZZ_CHECK(status == 200);
        break;
    }
  }
  return 0;
}
