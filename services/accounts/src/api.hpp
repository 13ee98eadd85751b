// The accounts HTTP JSON API (docs/accounts-api.md).
#pragma once

#include <string>

#include "callers.hpp"
#include "kiebot/http/health.hpp"
#include "kiebot/http/router.hpp"

namespace kiebot::accounts {

class Store;

// Every /v1 route requires `Authorization: Bearer <token>` of a caller whose
// scopes allow it (callers.hpp); health and metrics do not. `store` must
// outlive the router.
http::Router make_router(Store& store, Callers callers, ReadinessChecks readiness);

}  // namespace kiebot::accounts
