// Config: defaults, required variables, malformed values, --help.
#include <gtest/gtest.h>

#include "kiebot/base/config.hpp"

using kiebot::Config;

namespace {
Config::Getenv env(std::map<std::string, std::string> values) {
  return [values](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST(Config, DefaultsAndValues) {
  Config cfg("svc", "test", {}, env({{"HTTP_PORT", "9000"}, {"LOG_LEVEL", "debug"}}));
  EXPECT_EQ(cfg.port("HTTP_PORT", 8081, "port"), 9000);
  EXPECT_EQ(cfg.str("REDIS_URL", "redis://127.0.0.1:6379/0", "redis"), "redis://127.0.0.1:6379/0");
  EXPECT_EQ(cfg.log_level(), "debug");
  EXPECT_EQ(cfg.integer("LEASE_TTL_MS", 10000, "ttl", 1000, 600000), 10000);
  EXPECT_FALSE(cfg.finish().has_value());
}

TEST(Config, MissingRequiredExitsTwoNamingIt) {
  Config cfg("svc", "test", {}, env({{"TELEGRAM_BOT_TOKEN", ""}}));
  cfg.required("TELEGRAM_BOT_TOKEN", "bot token", true);
  ASSERT_EQ(cfg.errors().size(), 1u);
  EXPECT_NE(cfg.errors()[0].find("TELEGRAM_BOT_TOKEN"), std::string::npos);
  testing::internal::CaptureStderr();
  EXPECT_EQ(cfg.finish(), 2);
  auto err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("TELEGRAM_BOT_TOKEN is required"), std::string::npos);
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
}

TEST(Config, MalformedIntegerIsReported) {
  Config cfg("svc", "test", {}, env({{"HTTP_PORT", "80a"}, {"LEASE_TTL_MS", "5"}}));
  cfg.port("HTTP_PORT", 8081, "port");
  cfg.integer("LEASE_TTL_MS", 10000, "ttl", 1000, 600000);
  ASSERT_EQ(cfg.errors().size(), 2u);
  EXPECT_NE(cfg.errors()[0].find("HTTP_PORT must be an integer in [0, 65535], got '80a'"), std::string::npos);
  EXPECT_NE(cfg.errors()[1].find("LEASE_TTL_MS"), std::string::npos);
  testing::internal::CaptureStderr();
  EXPECT_EQ(cfg.finish(), 2);
  testing::internal::GetCapturedStderr();
}

TEST(Config, BadFlagAndLogLevel) {
  Config cfg("svc", "test", {}, env({{"X", "maybe"}, {"LOG_LEVEL", "loud"}}));
  cfg.flag("X", false, "x");
  cfg.log_level();
  EXPECT_EQ(cfg.errors().size(), 2u);
}

TEST(Config, HelpListsEveryVariableAndIgnoresMissing) {
  Config cfg("svc", "does things", {"--help"}, env({}));
  cfg.port("HTTP_PORT", 8081, "HTTP port");
  cfg.required("KIE_API_KEY", "KIE key", true);
  cfg.describe("KAFKA_CFG_<NAME>", "librdkafka property <name>");
  testing::internal::CaptureStderr();
  EXPECT_EQ(cfg.finish(), 0);
  auto out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("HTTP_PORT (default 8081)"), std::string::npos);
  EXPECT_NE(out.find("KIE_API_KEY (required)"), std::string::npos);
  EXPECT_NE(out.find("KAFKA_CFG_<NAME>"), std::string::npos);
}

TEST(Config, SecretsAreCollected) {
  Config cfg("svc", "test", {}, env({{"ACCOUNTS_TOKEN", "s3cr3t-value"}}));
  cfg.required("ACCOUNTS_TOKEN", "token", true);
  ASSERT_EQ(cfg.secrets().size(), 1u);
  EXPECT_EQ(cfg.secrets()[0], "s3cr3t-value");
}

TEST(Config, IdLists) {
  Config good("svc", "test", {}, env({{"ADMIN_IDS", "1, 22,333"}}));
  EXPECT_EQ(good.id_list("ADMIN_IDS", "admins"), (std::vector<std::int64_t>{1, 22, 333}));
  EXPECT_TRUE(good.id_list("NONE", "x").empty());
  Config bad("svc", "test", {}, env({{"ADMIN_IDS", "1,x"}}));
  EXPECT_TRUE(bad.id_list("ADMIN_IDS", "admins").empty());
  ASSERT_EQ(bad.errors().size(), 1u);
  EXPECT_NE(bad.errors()[0].find("ADMIN_IDS"), std::string::npos);
}

TEST(Config, Lists) {
  EXPECT_EQ(kiebot::split_list(" a, b,,c ,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(kiebot::split_list("").empty());
  Config cfg("svc", "test", {}, env({{"KEYS", "k1,k2"}}));
  EXPECT_EQ(cfg.list("KEYS", "x", "keys"), (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(cfg.list("OTHER", "d1,d2", "other"), (std::vector<std::string>{"d1", "d2"}));
}
