// The HTTP client under a fetch policy, against servers on loopback: refused
// addresses are never connected to, redirects are checked hop by hop and capped.
#include <gtest/gtest.h>

#include <memory>

#include "kiebot/http/client.hpp"
#include "kiebot/http/fetch_policy.hpp"
#include "local_server.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;

namespace {

struct Hits {
  int internal = 0;
};

struct FetchTest : testing::Test {
  net::io_context io;
  std::shared_ptr<Hits> hits = std::make_shared<Hits>();
  std::shared_ptr<std::string> internal_url = std::make_shared<std::string>();
  // An "internal service" that must never be reached through a fetch.
  std::unique_ptr<test::LocalServer> internal;
  // The allowed origin (as KIE's would be), which redirects on request.
  std::unique_ptr<test::LocalServer> allowed;
  http::Client client{io.get_executor()};
  std::shared_ptr<http::FetchPolicy> policy = std::make_shared<http::FetchPolicy>();

  void SetUp() override {
    http::Router inside;
    inside.add("GET", "/secret", http::SyncHandler([h = hits](const http::Request&) {
                 ++h->internal;
                 return http::Response::text(200, "secret");
               }));
    internal = std::make_unique<test::LocalServer>(io, std::move(inside));
    *internal_url = internal->url("/secret");
    http::Router outside;
    outside.add("GET", "/file",
                http::SyncHandler([](const http::Request&) { return http::Response::text(200, "file"); }));
    outside.add("GET", "/away", http::SyncHandler([u = internal_url](const http::Request&) {
                  return http::Response{302, {{"Location", *u}}, ""};
                }));
    outside.add("GET", "/hop/{n}", http::SyncHandler([](const http::Request& r) {
                  auto n = std::stoi(r.params.at("n"));
                  if (n == 0) return http::Response::text(200, "landed");
                  return http::Response{307, {{"Location", "/hop/" + std::to_string(n - 1)}}, ""};
                }));
    allowed = std::make_unique<test::LocalServer>(io, std::move(outside));
    policy->allow_origin(allowed->url("/"));
  }

  http::Response fetch(const std::string& url) {
    http::ClientRequest r{"GET", url, {}, {}, 5s, policy};
    return test::run(io, client.send(std::move(r)), 10s);
  }
  http::ClientError::Kind refused_kind(const std::string& url) {
    try {
      fetch(url);
    } catch (const http::ClientError& e) {
      return e.kind();
    }
    return http::ClientError::Kind::invalid_url;  // "not refused": fails the caller's EXPECT
  }
};

TEST_F(FetchTest, ANonAllowedLoopbackAddressIsNeverConnectedTo) {
  EXPECT_EQ(refused_kind(internal->url("/secret")), http::ClientError::Kind::refused);
  // By name, by an IPv4-mapped IPv6 literal, by a short IPv4 form: the
  // resolved address is what counts.
  auto port = std::to_string(internal->port());
  EXPECT_EQ(refused_kind("http://localhost:" + port + "/secret"), http::ClientError::Kind::refused);
  EXPECT_EQ(refused_kind("http://127.1:" + port + "/secret"), http::ClientError::Kind::refused);
  EXPECT_EQ(refused_kind("http://[::ffff:127.0.0.1]:" + port + "/secret"), http::ClientError::Kind::refused);
  EXPECT_EQ(hits->internal, 0);
  // Without a policy (our own calls to configured services) it is reached.
  http::ClientRequest plain{"GET", internal->url("/secret"), {}, {}, 5s};
  EXPECT_EQ(test::run(io, client.send(std::move(plain)), 10s).body, "secret");
  EXPECT_EQ(hits->internal, 1);
}

TEST_F(FetchTest, AnAllowedOriginIsFetchedThoughItIsOnLoopback) {
  auto r = fetch(allowed->url("/file"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "file");
}

TEST_F(FetchTest, ARedirectToARefusedAddressIsRefused) {
  EXPECT_EQ(refused_kind(allowed->url("/away")), http::ClientError::Kind::refused);
  EXPECT_EQ(hits->internal, 0);
}

TEST_F(FetchTest, RedirectsAreFollowedUpToTheCap) {
  EXPECT_EQ(fetch(allowed->url("/hop/5")).body, "landed");
  EXPECT_EQ(refused_kind(allowed->url("/hop/6")), http::ClientError::Kind::refused);
  policy->max_redirects = 0;
  EXPECT_EQ(refused_kind(allowed->url("/hop/1")), http::ClientError::Kind::refused);
}

TEST_F(FetchTest, FetchRefusalVetsAUrlBeforeItIsHandedOn) {
  auto vet = [&](const std::string& url) { return test::run(io, http::fetch_refusal(url, policy, 2s), 5s); };
  EXPECT_EQ(vet(allowed->url("/file")), "");
  EXPECT_NE(vet(internal->url("/secret")).find("loopback"), std::string::npos);
  EXPECT_NE(vet("http://169.254.169.254/latest/meta-data/").find("link_local"), std::string::npos);
  EXPECT_NE(vet("http://10.0.0.1/").find("private"), std::string::npos);
  EXPECT_NE(vet("http://x/\r\nHost: evil"), "");
  EXPECT_NE(vet("file:///etc/passwd"), "");
}

}  // namespace
