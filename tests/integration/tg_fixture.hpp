// The tg-emulator under test, over real HTTP: a fixture that starts it, a
// local server for webhooks and media URLs, and helpers for the Bot API and
// the control API.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiebot/http/client.hpp"
#include "local_server.hpp"
#include "process.hpp"
#include "run.hpp"

namespace kiebot::test {

using namespace std::chrono_literals;
using nlohmann::json;

// An image's header as a PNG's signature and IHDR chunk say it (all the
// emulator reads of it), or a JPEG's start and frame header.
inline std::string be(std::uint32_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}
inline std::string png_header(std::uint32_t width, std::uint32_t height) {
  return std::string("\x89PNG\r\n\x1a\n", 8) + be(13, 4) + "IHDR" + be(width, 4) + be(height, 4) +
         std::string("\x08\x02\x00\x00\x00", 5) + be(0, 4) + std::string(200, '\0');
}
inline std::string jpeg_header(std::uint32_t width, std::uint32_t height, std::size_t size) {
  auto out = std::string("\xff\xd8\xff\xc0", 4) + be(11, 2) + "\x08" + be(height, 2) + be(width, 2) +
             std::string("\x01\x01\x11\x00", 4);
  return out + std::string(size > out.size() ? size - out.size() : 0, '\0');
}

inline constexpr const char* kToken = "111111:sandbox-token";

struct Tg : testing::Test {
  std::unique_ptr<test::Process> emulator;
  std::uint16_t port = 0;
  net::io_context io;
  http::Client client{io.get_executor()};
  // A local server for webhooks and media URLs.
  std::vector<http::Request> hooks;
  int fail_hooks = 0;
  std::unique_ptr<test::LocalServer> local;

  void SetUp() override {
    emulator = std::make_unique<test::Process>(std::vector<std::string>{std::string(KIEBOT_BIN_DIR) + "/tg-emulator"},
                                               std::map<std::string, std::string>{{"HTTP_PORT", "0"}});
    port = emulator->listening_port(10s);
    http::Router router;
    router.add("POST", "/hook", http::SyncHandler([this](const http::Request& r) {
                 if (fail_hooks > 0) {
                   --fail_hooks;
                   return http::Response::text(500, "down");
                 }
                 hooks.push_back(r);
                 return http::Response::text(200, "ok");
               }));
    router.add("GET", "/media/{size}", http::SyncHandler([](const http::Request& r) {
                 return http::Response::text(200, std::string(std::stoul(r.params.at("size")), 'm'), "image/png");
               }));
    router.add("GET", "/image/{width}/{height}", http::SyncHandler([](const http::Request& r) {
                 return http::Response::text(
                     200, png_header(std::stoul(r.params.at("width")), std::stoul(r.params.at("height"))), "image/png");
               }));
    local = std::make_unique<test::LocalServer>(io, std::move(router));
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port); }
  std::string local_url(const std::string& path) const { return local->url(path); }

  http::Response raw(const std::string& method, const std::string& path, const std::string& body = "",
                     const std::string& type = "application/json", std::chrono::milliseconds timeout = 20s) {
    http::ClientRequest r{method, base() + path, {}, body, timeout};
    if (!body.empty()) r.headers.emplace_back("Content-Type", type);
    return test::run(io, client.send(std::move(r)), 60s);
  }
  // Calls a Bot API method with JSON parameters; checks HTTP status == error_code.
  json api(const std::string& method, const json& params = json::object()) {
    auto r = raw("POST", std::string("/bot") + kToken + "/" + method, params.dump());
    auto body = r.json();
    if (!body["ok"].get<bool>()) {
      EXPECT_EQ(r.status, body["error_code"].get<int>()) << r.body;
    }
    return body;
  }
  json control(const std::string& method, const std::string& path, const json& body = json::object()) {
    auto r = raw(method, "/control" + path, method == "GET" ? "" : body.dump());
    EXPECT_EQ(r.status, 200) << path << " " << r.body;
    return r.json();
  }
  json user_says(std::int64_t user, const std::string& text) {
    return control("POST", "/users/" + std::to_string(user) + "/messages", {{"text", text}, {"language_code", "en"}});
  }
  std::string description(const json& answer) { return answer.value("description", ""); }
};

}  // namespace kiebot::test
