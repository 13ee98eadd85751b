// GET /healthz, /readyz and /metrics for every service.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kiebot/http/router.hpp"

namespace kiebot {

// Each check names a dependency and says whether it is usable right now.
using ReadinessChecks = std::function<std::vector<std::pair<std::string, bool>>()>;

// /healthz: the process answers. /readyz: 200 when every check passes, else
// 503; both list the checks. /metrics: the Prometheus text of the registry.
// `details`, when given, adds facts to /readyz that do not decide readiness
// (e.g. whether this ingress replica holds the polling lease).
void add_health_routes(http::Router& router, ReadinessChecks checks, std::function<nlohmann::json()> details = nullptr);

}  // namespace kiebot
