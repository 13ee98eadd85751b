// A claimed job during one step: its record as loaded, and the parsed job.
#pragma once

#include <string>

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
  std::int64_t number(const std::string& name) const {
    try {
      return std::stoll(field(name));
    } catch (const std::exception&) {
      return 0;
    }
  }
};

}  // namespace kiebot::generator
