// A generation as the dialog remembers it for a user's history, running
// jobs and "repeat" (kept by the Store).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace kiebot::dialog {

struct JobRecord {
  std::string job_id;
  std::string model;       // catalog model id
  nlohmann::json values;   // the form's values
  std::string status;      // queued, succeeded, failed
  std::int64_t price = 0;  // kopecks held
  std::int64_t created_ms = 0;
  std::int64_t deadline_ms = 0;
  nlohmann::json files = nlohmann::json::object();  // its uploads (Form::files), for "repeat"
};

}  // namespace kiebot::dialog
