// The dialog's HTTP routes (see routes.hpp).
#include "routes.hpp"

#include <nlohmann/json.hpp>

#include "kiebot/http/router.hpp"
#include "kiebot/redis/redis.hpp"
#include "store.hpp"

namespace kiebot::dialog {

namespace {

net::awaitable<http::Response> user_jobs(Store& store, std::int64_t user_id) {
  std::vector<JobRecord> jobs;
  try {
    jobs = co_await store.history(user_id, 10);
  } catch (const redis::Error& e) {
    co_return http::Response::error(503, "unavailable", e.what());
  }
  auto out = nlohmann::json::array();
  for (const auto& j : jobs) {
    out.push_back({{"job_id", j.job_id},
                   {"model", j.model},
                   {"status", j.status},
                   {"price", j.price},
                   {"created_ms", j.created_ms}});
  }
  nlohmann::json body = {{"user_id", user_id}, {"jobs", std::move(out)}};
  co_return http::Response::json(200, body);
}

}  // namespace

void add_routes(http::Router& router, Store& store, std::string admin_token) {
  if (admin_token.empty()) return;
  router.add("GET", "/dialog/users/{user_id}/jobs", http::Handler([&store](http::Request r) {
               std::int64_t id = 0;
               try {
                 id = std::stoll(r.params.at("user_id"));
               } catch (const std::exception&) {
               }
               if (id <= 0) throw http::BadRequest{400, "invalid_user_id", "user_id must be a positive integer"};
               return user_jobs(store, id);
             }),
             http::secret_header_guard("Authorization", "Bearer ", std::move(admin_token)));
}

}  // namespace kiebot::dialog
