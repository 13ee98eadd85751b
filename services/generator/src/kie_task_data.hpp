// What every family of KIE's status routes answers the same way (kie_answers.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include "kie_answers.hpp"

namespace kiebot::generator::detail {

// An unknown or refused task (404, 422, 501 in the body), no data, or no
// answer worth reading. Returns the data object, or null with `t` filled;
// reads the callBackUrl the task was created with from its recorded request.
const nlohmann::json* task_data(int http_status, const nlohmann::json& j, TaskState& t, const char* what);

}  // namespace kiebot::generator::detail
