// generator's deliveries to Telegram: results too large to pass by URL are
// uploaded, relayed (a photo beyond 10 MB as a document) or linked, result URLs outside the allowed origins are
// refused, jobs without a chat go only to results, and replicas share one
// chat's pace.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>

#include "generator_fixture.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using test::GeneratorTest;

namespace {

TEST_F(GeneratorTest, ResultsTooLargeForTelegramUrlsAreUploadedOrLinked) {
  start_generator();
  // Telegram fetches photos by URL up to 5 MB and takes uploads up to 10 MB.
  kie_config({{"result_size", 6 << 20}});
  publish(job("job-big", ""));
  ASSERT_EQ(read("gen.results", 1).size(), 1u);
  EXPECT_EQ(photos(), 1u) << "uploaded";
  // Beyond a photo's 10 MB: the original as a document (up to 50 MB).
  kie_config({{"result_size", 12 << 20}});
  publish(job("job-huge", ""));
  ASSERT_EQ(read("gen.results", 2).size(), 2u);
  auto last = transcript().back();
  ASSERT_TRUE(last.contains("media")) << last.dump();
  EXPECT_EQ(last["media"]["type"], "document");
  EXPECT_EQ(last["media"]["file_size"], 12 << 20);
}

TEST_F(GeneratorTest, AResultUrlOnANonAllowedLoopbackPortFailsTheJobAndReleasesItsHold) {
  start_generator();
  // KIE names an internal service (accounts, on loopback but not an allowed
  // origin) as the result: nothing is fetched or handed to Telegram.
  kie_config({{"result_base_url", url(accounts_port, "")}});
  auto balance = user()["balance"].get<std::int64_t>();
  publish(job("job-ssrf", hold("job-ssrf", 1'000)));
  auto results = read("gen.results", 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "failed") << job_record("job-ssrf");
  EXPECT_EQ(results[0]["error"]["code"], "unsafe_result_url") << results[0].dump();
  EXPECT_EQ(results[0]["delivered"], false);
  auto u = user();
  EXPECT_EQ(u["balance"].get<std::int64_t>(), balance);
  EXPECT_EQ(u["held"], 0);
  EXPECT_EQ(metric(0, "generator_unsafe_result_urls_total"), 1);
  EXPECT_EQ(photos(), 0u);
  // KIE's own origin stays allowed, though it is on loopback too.
  kie_config({{"result_base_url", ""}});
  publish(job("job-safe", hold("job-safe", 1'000)));
  results = read("gen.results", 2);
  ASSERT_EQ(results.size(), 2u);
  // Results of different jobs come from different partitions, in any order.
  auto safe = results[0]["job_id"] == "job-safe" ? results[0] : results[1];
  EXPECT_EQ(safe["job_id"], "job-safe");
  EXPECT_EQ(safe["status"], "succeeded") << job_record("job-safe");
  EXPECT_EQ(photos(), 1u);
}

TEST_F(GeneratorTest, AVideoTelegramCannotFetchIsRelayedAsItArrives) {
  start_generator();
  // 30 MiB: beyond Telegram's 20 MB by URL, within its 50 MB upload. Both
  // emulators stream it; the generator relays it without holding it.
  constexpr std::int64_t kSize = 30 << 20;
  kie_config({{"result_size", kSize}});
  json j = job("job-video", "");
  j["model"] = "wan/2-5-text-to-video";
  j["input"] = {{"prompt", "a fox running"}, {"duration", "5"}};
  publish(j);
  auto results = read("gen.results", 1, 60s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "succeeded") << job_record("job-video");
  bool uploaded = false;
  for (const auto& m : transcript()) {
    if (m.contains("media") && m["media"]["type"] == "video") {
      uploaded = true;
      EXPECT_EQ(m["media"]["file_size"], kSize) << m.dump();
    }
  }
  EXPECT_TRUE(uploaded) << transcript().dump();
  // Beyond the upload limit: a link, never a download of the whole.
  kie_config({{"result_size", 60 << 20}});
  j["job_id"] = "job-video-huge";
  publish(j);
  ASSERT_EQ(read("gen.results", 2, 60s).size(), 2u);
  auto last = transcript().back();
  EXPECT_NE(last.value("text", "").find("http://"), std::string::npos) << last.dump();
}

// A background removed to a transparent PNG would lose its alpha as a
// photo: the catalog delivers it as a document, the original file.
TEST_F(GeneratorTest, ResultsWhoseOriginalMattersAreSentAsDocuments) {
  start_generator();
  json j = job("job-cutout", "");
  j["model"] = "recraft/remove-background";
  j["input"] = {{"image", "https://files.example/portrait.jpg"}};
  publish(j);
  auto results = read("gen.results", 1, 60s);  // as the other deliveries: a loaded CI machine
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "succeeded") << job_record("job-cutout");
  std::size_t documents = 0;
  for (const auto& m : transcript()) documents += m.contains("media") && m["media"]["type"] == "document" ? 1 : 0;
  EXPECT_EQ(documents, 1u) << transcript().dump();
  EXPECT_EQ(photos(), 0u);
}

TEST_F(GeneratorTest, JobsWithoutAChatGoOnlyToResults) {
  start_generator();
  json j = job("job-internal", "");
  j.erase("chat_id");
  j.erase("user_id");
  publish(j);
  auto results = read("gen.results", 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "succeeded");
  EXPECT_EQ(results[0]["delivered"], false);
  EXPECT_EQ(photos(), 0u);
}

TEST_F(GeneratorTest, DeliveriesToOneChatKeepTelegramsPaceAcrossReplicas) {
  // Two replicas, six results for one chat: the shared limiter keeps them
  // to one a second after a burst of three, so Telegram never says 429.
  // As in the other multi-replica tests: a group rebalance must not wait
  // for librdkafka's 45 s session timeout.
  std::map<std::string, std::string> env{{"KAFKA_CFG_SESSION_TIMEOUT_MS", "6000"},
                                         {"KAFKA_CFG_HEARTBEAT_INTERVAL_MS", "500"}};
  start_generator(env);
  start_generator(env);
  for (int i = 0; i < 6; ++i) publish(job("job-pace" + std::to_string(i), ""));
  ASSERT_EQ(read("gen.results", 6, 60s).size(), 6u);
  EXPECT_EQ(photos(), 6u);
  EXPECT_EQ(tg_call("GET", "/control/stats")["flood_429"], 0);
}

}  // namespace
