// The sandbox page and its endpoints (see sandbox.hpp).
#include "sandbox.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kiebot/http/client.hpp"
#include "kiebot/http/router.hpp"
#include "state.hpp"

namespace kiebot::tg {

extern const char* const kSandboxHtml;  // generated from web/index.html
extern const char* const kSandboxJs;    // web/app.js
extern const char* const kSandboxCss;   // web/style.css

namespace {

using nlohmann::json;

// Until the emulator's version passes `since`, at most `wait`. Each waiter
// has its own timer, which touch() cancels.
net::awaitable<http::Response> changes(std::shared_ptr<Emulator> em, std::uint64_t since, std::chrono::seconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (em->version <= since && std::chrono::steady_clock::now() < deadline) {
    auto timer = std::make_shared<net::steady_timer>(em->executor, deadline);
    std::erase_if(em->change_waiters, [](const auto& w) { return w.expired(); });  // polls that timed out
    em->change_waiters.push_back(timer);
    co_await timer->async_wait(net::as_tuple(net::use_awaitable));
  }
  json body = {{"version", em->version}};
  co_return http::Response::json(200, body);
}

// GET on a service of the stack; null when it does not answer.
net::awaitable<json> fetch(std::shared_ptr<Emulator> em, std::string url, http::Headers headers) {
  try {
    http::ClientRequest request{"GET", std::move(url), std::move(headers), {}, std::chrono::seconds(2)};
    auto response = co_await em->client->send(std::move(request));
    auto body = json::parse(response.body, nullptr, false);
    co_return body.is_discarded() ? json() : body;
  } catch (const http::ClientError&) {
    co_return json();
  }
}

net::awaitable<http::Response> panel(std::shared_ptr<Emulator> em, std::int64_t user_id) {
  const auto config = em->sandbox;
  json replicas = json::array();
  json jobs;
  for (const auto& base : config.value("ingress", json::array())) {
    auto url = base.get<std::string>();
    auto ready = co_await fetch(em, url + "/readyz", {});
    replicas.push_back(
        {{"url", url},
         {"up", !ready.is_null()},
         {"instance", ready.value("instance", "")},
         {"polling", ready.is_object() && ready.contains("lease") && ready["lease"].value("held", false)}});
    if (jobs.is_null() && !ready.is_null() && user_id > 0) {
      http::Headers auth = {{"Authorization", "Bearer " + config.value("ingress_token", "")}};
      jobs =
          (co_await fetch(em, url + "/dialog/users/" + std::to_string(user_id) + "/jobs", auth)).value("jobs", json());
    }
  }
  json account;
  if (config.contains("accounts") && user_id > 0) {
    http::Headers auth = {{"Authorization", "Bearer " + config.value("accounts_token", "")}};
    account = co_await fetch(em, config["accounts"].get<std::string>() + "/v1/users/" + std::to_string(user_id), auth);
  }
  json body = {{"replicas", replicas},
               {"jobs", jobs},
               {"account", account},
               {"emulator",
                {{"conflicts_409", em->stats.conflicts_409},
                 {"flood_429", em->stats.flood_429},
                 {"methods", em->stats.methods}}}};
  co_return http::Response::json(200, body);
}

http::Response asset(const char* text, const char* type) {
  auto r = http::Response::text(200, text, type);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace

void add_sandbox_routes(http::Router& router, std::shared_ptr<Emulator> em) {
  router.add("GET", "/",
             http::SyncHandler([](const http::Request&) { return asset(kSandboxHtml, "text/html; charset=utf-8"); }));
  router.add("GET", "/sandbox/app.js", http::SyncHandler([](const http::Request&) {
               return asset(kSandboxJs, "text/javascript; charset=utf-8");
             }));
  router.add("GET", "/sandbox/style.css",
             http::SyncHandler([](const http::Request&) { return asset(kSandboxCss, "text/css; charset=utf-8"); }));
  router.add("GET", "/control/changes", http::Handler([em](http::Request r) {
               std::uint64_t since = 0;
               try {
                 since = std::stoull(r.query("since").value_or("0"));
               } catch (const std::exception&) {
               }
               return changes(em, since, std::chrono::seconds(25));
             }));
  // Where the panel finds the stack: {"ingress": [urls], "ingress_token": ADMIN_API_TOKEN, "accounts": url,
  // "accounts_token": t}.
  router.add("POST", "/control/sandbox", http::SyncHandler([em](const http::Request& r) {
               auto body = r.json();
               if (!body.is_object()) throw http::BadRequest{400, "invalid_sandbox", "a JSON object"};
               em->sandbox = body;
               return http::Response::json(200, {{"ingress", body.value("ingress", json::array())}});
             }));
  router.add("GET", "/control/panel", http::Handler([em](http::Request r) {
               std::int64_t user = 0;
               try {
                 user = std::stoll(r.query("user_id").value_or("0"));
               } catch (const std::exception&) {
               }
               return panel(em, user);
             }));
}

}  // namespace kiebot::tg
