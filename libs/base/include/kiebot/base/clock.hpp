// Wall-clock time as Unix milliseconds, the unit of every timestamp in
// messages and Redis records.
#pragma once

#include <chrono>
#include <cstdint>

namespace kiebot {

inline std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace kiebot
