// A KIE completion callback's body (services/generator kie_answers.hpp):
// the task id it names is at most 128 bytes, "" when it names none, and the
// same body read as a recordInfo answer never throws.
#include "check.hpp"
#include "kie_answers.hpp"

namespace gen = kiebot::generator;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto body = kiebot::fuzz::as_text(data, size);
  auto task = gen::callback_task_id(body);
  FUZZ_CHECK(task.size() <= 128);
  (void)gen::parse_record_info(200, std::string(body));
  return 0;
}
