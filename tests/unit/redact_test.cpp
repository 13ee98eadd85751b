// Secret redaction in log lines.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kiebot/base/log.hpp"
#include "kiebot/base/redact.hpp"

using kiebot::redact;

TEST(Redact, TelegramTokenInUrl) {
  auto out = redact("GET https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getUpdates", {});
  EXPECT_EQ(out.find("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"), std::string::npos);
  EXPECT_NE(out.find("/bot<redacted>/getUpdates"), std::string::npos);
}

TEST(Redact, KnownSecretsAnywhere) {
  auto out = redact("key=kie-abcdef0123 and again kie-abcdef0123", {"kie-abcdef0123"});
  EXPECT_EQ(out, "key=<redacted> and again <redacted>");
}

TEST(Redact, BearerAndUrlPasswords) {
  EXPECT_EQ(redact("Authorization: Bearer abc.def-ghi", {}), "Authorization: Bearer <redacted>");
  EXPECT_EQ(redact("redis://:hunter22@redis:6379/0", {}), "redis://:<redacted>@redis:6379/0");
  EXPECT_EQ(redact("redis://user:pw1234@h/0", {}), "redis://user:<redacted>@h/0");
}

TEST(Redact, LeavesOrdinaryTextAlone) {
  EXPECT_EQ(redact("at 12:30 chat 123456 sent http://host:8080/x", {}), "at 12:30 chat 123456 sent http://host:8080/x");
}

TEST(Log, LineIsOneJsonObjectWithoutSecrets) {
  kiebot::log::init({"ingress", "pod-1", kiebot::log::Level::debug, {"topsecret-token"}});
  auto line = kiebot::log::format(kiebot::log::Level::warn, "http_failed",
                                  {{"url", "https://x/bot42424242:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage"},
                                   {"header", "topsecret-token"},
                                   {"n", 3}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["service"], "ingress");
  EXPECT_EQ(j["instance"], "pod-1");
  EXPECT_EQ(j["event"], "http_failed");
  EXPECT_EQ(j["n"], 3);
  EXPECT_TRUE(j.contains("ts"));
  EXPECT_EQ(line.find("topsecret-token"), std::string::npos);
  EXPECT_EQ(line.find("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"), std::string::npos);
  kiebot::log::init({});
}
