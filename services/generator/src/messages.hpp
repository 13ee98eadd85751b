// What the generator tells users, in Russian and English.
#pragma once

#include <string>

namespace kiebot::generator {

// key: generating, done, links, try_again, or an error code (timeout,
// kie_failed, kie_credits, invalid_input, ambiguous_submit, kie_rejected).
std::string message(const std::string& language, const std::string& key);

}  // namespace kiebot::generator
