// Routing: literals, parameters, prefixed parameters, 404/405, errors.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "bug_guard.hpp"
#include "kiebot/base/errors.hpp"
#include "kiebot/http/router.hpp"
#include "run.hpp"

using namespace kiebot;

namespace {
http::Response echo(const http::Request& r) {
  nlohmann::json params = r.params;
  return http::Response::json(200, {{"path", r.path}, {"params", params}});
}

http::Response call(const http::Router& router, std::string method, std::string target, std::string body = {}) {
  net::io_context io;
  http::Request request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.body = std::move(body);
  return test::run(io, http::dispatch(router, std::move(request)));
}
}  // namespace

TEST(Router, LiteralAndParameters) {
  http::Router router;
  router.add("GET", "/v1/users/{id}", http::SyncHandler(echo));
  router.add("GET", "/v1/users/me",
             http::SyncHandler([](const http::Request&) { return http::Response::text(200, "me"); }));
  router.add("POST", "/v1/holds/{hold_id}/commit", http::SyncHandler(echo));
  router.add("POST", "/bot{token}/{method}", http::SyncHandler(echo));

  auto r = call(router, "GET", "/v1/users/42?x=1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["params"]["id"], "42");
  EXPECT_EQ(r.json()["path"], "/v1/users/42");
  EXPECT_EQ(call(router, "GET", "/v1/users/me").body, "me");  // literal wins
  EXPECT_EQ(call(router, "POST", "/v1/holds/h-1/commit").json()["params"]["hold_id"], "h-1");
  auto tg = call(router, "POST", "/bot123:abc/getUpdates").json();
  EXPECT_EQ(tg["params"]["token"], "123:abc");
  EXPECT_EQ(tg["params"]["method"], "getUpdates");
  EXPECT_EQ(call(router, "GET", "/v1/users/a%20b").json()["params"]["id"], "a b");
}

TEST(Router, NotFoundAndMethodNotAllowed) {
  http::Router router;
  router.add("GET", "/healthz", http::SyncHandler(echo));
  router.add("PUT", "/v1/users/{id}/language", http::SyncHandler(echo));
  auto nf = call(router, "GET", "/nope");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.json()["error"], "not_found");
  auto na = call(router, "POST", "/v1/users/1/language");
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(*na.header("allow"), "PUT");
  EXPECT_EQ(call(router, "GET", "/v1/users//language").status, 404);  // empty parameter
  EXPECT_EQ(call(router, "HEAD", "/healthz").status, 200);
}

TEST(Router, HandlerErrorsBecomeJsonErrors) {
  http::Router router;
  router.add("POST", "/json", http::SyncHandler([](const http::Request& r) {
               auto body = r.json();
               return http::Response::json(200, {{"amount", body.at("amount").get<std::int64_t>()}});
             }));
  router.add("GET", "/boom", http::SyncHandler([](const http::Request&) -> http::Response {
               throw std::runtime_error("secret internals");
             }));
  router.add("GET", "/later",
             http::SyncHandler([](const http::Request&) -> http::Response { throw TransientError("storage away"); }));
  router.add("GET", "/teapot", http::SyncHandler([](const http::Request&) -> http::Response {
               throw http::BadRequest{402, "insufficient_funds", "top up first"};
             }));
  EXPECT_EQ(call(router, "POST", "/json", "{\"amount\": 150}").json()["amount"], 150);
  auto bad = call(router, "POST", "/json", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json()["error"], "invalid_json");
  EXPECT_EQ(call(router, "POST", "/json", "{}").status, 400);
  test::expect_bugs(1);  // the handler's runtime_error is one, logged and counted
  auto bugs = bugs_reported();
  auto boom = call(router, "GET", "/boom");
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(bugs_reported(), bugs + 1);
  EXPECT_EQ(boom.body.find("secret internals"), std::string::npos);
  EXPECT_EQ(call(router, "GET", "/later").status, 503);
  auto custom = call(router, "GET", "/teapot");
  EXPECT_EQ(custom.status, 402);
  EXPECT_EQ(custom.json()["error"], "insufficient_funds");
}

TEST(Router, GuardsRefuseOnHeadersAlone) {
  http::Router router;
  int refused = 0;
  router.add("POST", "/private/{id}", http::SyncHandler(echo),
             http::secret_header_guard("Authorization", "Bearer ", "s3cret", 401, [&] { ++refused; }));
  router.add("GET", "/open", http::SyncHandler(echo));

  http::Request head;
  head.method = "POST";
  head.target = "/private/1";
  auto no_token = router.admit(head);
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
  EXPECT_EQ(no_token->json()["error"], "unauthorized");
  head.headers = {{"authorization", "Bearer s3cre"}};
  EXPECT_TRUE(router.admit(head));
  head.headers = {{"Authorization", "s3cret"}};  // no "Bearer "
  EXPECT_TRUE(router.admit(head));
  head.headers = {{"Authorization", "Bearer s3cret"}};
  EXPECT_FALSE(router.admit(head));
  EXPECT_EQ(refused, 3);

  http::Request open;
  open.target = "/open";
  EXPECT_FALSE(router.admit(open));
  http::Request unknown;
  unknown.target = "/nope";
  EXPECT_FALSE(router.admit(unknown));  // dispatch answers 404

  // dispatch applies the guard too, whoever calls it.
  EXPECT_EQ(call(router, "POST", "/private/1", "{}").status, 401);
}
