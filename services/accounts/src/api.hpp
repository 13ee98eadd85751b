// The accounts HTTP JSON API (docs/accounts-api.md).
#pragma once

#include <string>

#include "callers.hpp"
#include "kiebot/common/health.hpp"
#include "kiebot/common/http_router.hpp"

namespace kiebot::accounts {

class Store;

// Every /v1 route requires `Authorization: Bearer <token>` of a caller whose
// scopes allow it (callers.hpp); health and metrics do not. `store` must
// outlive the router.
http::Router make_router(Store& store, Callers callers, ReadinessChecks readiness);

}  // namespace kiebot::accounts
