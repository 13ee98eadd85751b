// A claimed job during one step: its record as loaded, and the parsed job.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>

#include "generator.hpp"

namespace kiebot::generator {

struct Generator::Step {
  Claimed claimed;
  Fields fields;
  Job job;

  const std::string& id() const { return claimed.job_id; }
  std::string field(const std::string& name) const {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
  }
  // 0 when absent or not a number.
  std::int64_t number(const std::string& name) const {
    auto text = field(name);
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size() ? value : 0;
  }
};

}  // namespace kiebot::generator
