// KAFKA_CFG_* passthrough and secret detection.
#include <gtest/gtest.h>

#include "kiebot/kafka/kafka.hpp"

using namespace kiebot::kafka;

TEST(KafkaConfig, EnvToProperties) {
  auto props = properties_from_env({{"KAFKA_CFG_SECURITY_PROTOCOL", "sasl_ssl"},
                                    {"KAFKA_CFG_SASL_MECHANISMS", "SCRAM-SHA-512"},
                                    {"KAFKA_CFG_SASL_PASSWORD", "pw"},
                                    {"KAFKA_BROKERS", "x:9092"},
                                    {"KAFKA_CFG_", "ignored"}});
  EXPECT_EQ(props.size(), 3u);
  EXPECT_EQ(props["security.protocol"], "sasl_ssl");
  EXPECT_EQ(props["sasl.mechanisms"], "SCRAM-SHA-512");
  EXPECT_EQ(props["sasl.password"], "pw");
}

TEST(KafkaConfig, SecretProperties) {
  EXPECT_TRUE(is_secret_property("sasl.password"));
  EXPECT_TRUE(is_secret_property("ssl.key.password"));
  EXPECT_TRUE(is_secret_property("ssl.key.pem"));
  EXPECT_TRUE(is_secret_property("sasl.oauthbearer.client.secret"));
  EXPECT_FALSE(is_secret_property("security.protocol"));
  EXPECT_FALSE(is_secret_property("sasl.mechanisms"));
}
