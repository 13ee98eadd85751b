// Health, readiness and metrics endpoints.
#include "kiebot/http/health.hpp"

#include <nlohmann/json.hpp>

#include "kiebot/base/errors.hpp"
#include "kiebot/base/metrics.hpp"

namespace kiebot {

void add_health_routes(http::Router& router, ReadinessChecks checks, std::function<nlohmann::json()> details) {
  register_error_metrics();
  router.add("GET", "/healthz",
             http::SyncHandler([](const http::Request&) { return http::Response::text(200, "ok\n"); }));
  router.add("GET", "/readyz",
             http::SyncHandler([checks = std::move(checks), details = std::move(details)](const http::Request&) {
               nlohmann::json body = {{"ready", true}, {"checks", nlohmann::json::object()}};
               if (checks) {
                 for (const auto& [name, ok] : checks()) {
                   body["checks"][name] = ok;
                   if (!ok) body["ready"] = false;
                 }
               }
               if (details) {
                 auto facts = details();
                 for (auto& [key, value] : facts.items()) body[key] = value;
               }
               return http::Response::json(body["ready"].get<bool>() ? 200 : 503, body);
             }));
  router.add("GET", "/metrics", http::SyncHandler([](const http::Request&) {
               return http::Response::text(200, metrics::registry().render(),
                                           "text/plain; version=0.0.4; charset=utf-8");
             }));
}

}  // namespace kiebot
