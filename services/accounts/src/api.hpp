// The accounts HTTP JSON API (docs/accounts-api.md).
#pragma once

#include <string>

#include "kiebot/common/health.hpp"
#include "kiebot/common/http_router.hpp"

namespace kiebot::accounts {

class Store;

// Every /v1 route requires `Authorization: Bearer <token>`; health and
// metrics do not. `store` must outlive the router.
http::Router make_router(Store& store, std::string token, ReadinessChecks readiness);

}  // namespace kiebot::accounts
