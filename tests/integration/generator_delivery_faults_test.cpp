// generator's deliveries when Telegram says no: a blocked bot or a gone chat
// ends the delivery (the hold committed: KIE made and charged the result), a
// long flood wait puts the delivery off without holding other jobs, a photo
// beyond Telegram's limits goes as a document; and Suno's tracks carry their
// title and cover.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "generator_fixture.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using test::Clock;
using test::GeneratorTest;

namespace {

std::size_t media_of(const json& transcript, const std::string& type) {
  std::size_t n = 0;
  for (const auto& m : transcript) n += m.contains("media") && m["media"]["type"] == type ? 1 : 0;
  return n;
}

const json* result_of(const std::vector<json>& results, const std::string& id) {
  for (const auto& r : results) {
    if (r.value("job_id", "") == id) return &r;
  }
  return nullptr;
}

TEST_F(GeneratorTest, ABlockedBotOrAGoneChatEndsTheDeliveryAndTheHoldIsCommitted) {
  start_generator();
  auto balance = user()["balance"].get<std::int64_t>();
  tg_call("POST", "/control/chats/42/fault", {{"kind", "blocked"}});
  publish(job("job-blocked", hold("job-blocked", 1'000)));
  auto results = read("gen.results", 1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["status"], "succeeded") << job_record("job-blocked");
  EXPECT_EQ(results[0]["delivered"], false);
  EXPECT_EQ(results[0]["delivery"], "chat_unavailable");
  tg_call("POST", "/control/chats/42/fault", {{"kind", "not_found"}});
  publish(job("job-gone", hold("job-gone", 1'000)));
  results = read("gen.results", 2);
  ASSERT_EQ(results.size(), 2u);
  const auto* gone = result_of(results, "job-gone");
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ((*gone)["delivery"], "chat_unavailable") << job_record("job-gone");
  // Both paid: KIE produced (and charged for) both results.
  auto u = user();
  EXPECT_EQ(u["balance"].get<std::int64_t>(), balance - 2'000);
  EXPECT_EQ(u["held"], 0);
  EXPECT_EQ(metric(0, "generator_deliveries_undeliverable_total"), 2);
  // Tried once each, never again.
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(tg_call("GET", "/control/stats")["methods"]["sendPhoto"], 2);
}

TEST_F(GeneratorTest, ALongFloodWaitPutsTheDeliveryOffWithoutHoldingOtherJobs) {
  start_generator();
  tg_call("POST", "/control/users/43/messages", {{"text", "/start"}, {"language_code", "en"}});
  tg_call("POST", "/control/chats/42/fault", {{"kind", "flood"}, {"retry_after", 15}});
  auto started = Clock::now();
  publish(job("job-waits", ""));
  std::this_thread::sleep_for(300ms);
  publish(job("job-other", "", {{"chat_id", 43}, {"user_id", 43}}));
  auto first = read("gen.results", 1, 12s);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]["job_id"], "job-other");
  EXPECT_LT(Clock::now() - started, 12s);
  EXPECT_NE(job_record("job-waits").find("delivered=waiting"), std::string::npos) << job_record("job-waits");
  EXPECT_EQ(metric(0, "generator_deliveries_postponed_total"), 1);
  auto both = read("gen.results", 2, 30s);
  ASSERT_EQ(both.size(), 2u);
  const auto* waited = result_of(both, "job-waits");
  ASSERT_NE(waited, nullptr);
  EXPECT_EQ((*waited)["delivered"], true) << job_record("job-waits");
  EXPECT_GE(Clock::now() - started, 15s);
  EXPECT_EQ(photos(), 1u);
}

TEST_F(GeneratorTest, APhotoBeyondTelegramsDimensionsIsSentAsADocument) {
  start_generator();
  // By URL: Telegram answers PHOTO_INVALID_DIMENSIONS, the same URL goes as a document.
  kie_config({{"result_dimensions", {{"width", 12000}, {"height", 100}}}});
  publish(job("job-wide", ""));
  auto results = read("gen.results", 1, 60s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["delivery"], "document") << job_record("job-wide");
  // Relayed (6 MB: more than Telegram fetches for a photo): its header says
  // so before anything is uploaded.
  kie_config({{"result_size", 6 << 20}});
  publish(job("job-wide-big", ""));
  results = read("gen.results", 2, 60s);
  ASSERT_EQ(results.size(), 2u);
  const auto* big = result_of(results, "job-wide-big");
  ASSERT_NE(big, nullptr);
  EXPECT_EQ((*big)["delivery"], "document") << job_record("job-wide-big");
  auto t = transcript();
  EXPECT_EQ(media_of(t, "document"), 2u) << t.dump();
  EXPECT_EQ(photos(), 0u);
  EXPECT_EQ(tg_call("GET", "/control/stats")["methods"].value("sendPhoto", 0), 2) << "one refused photo each";
}

TEST_F(GeneratorTest, SunoTracksCarryTheirTitleAndCover) {
  auto port = test::free_port();
  start_generator({{"HTTP_PORT", std::to_string(port)},
                   {"PUBLIC_BASE_URL", "http://127.0.0.1:" + std::to_string(port)},
                   {"CALLBACK_SECRET", "cb-secret"}});
  json j = job("job-song", "");
  j["model"] = "suno/generate";
  j["input"] = {{"model", "V5"}, {"instrumental", false}, {"customMode", false}, {"prompt", "night city lights rain"}};
  publish(j);
  ASSERT_EQ(read("gen.results", 1, 60s).size(), 1u) << job_record("job-song");
  std::vector<json> tracks;
  for (const auto& m : transcript()) {
    if (m.contains("media") && m["media"]["type"] == "audio") tracks.push_back(m["media"]);
  }
  ASSERT_EQ(tracks.size(), 2u) << transcript().dump();
  EXPECT_EQ(tracks[0]["title"], "night city lights rain");
  EXPECT_EQ(tracks[1]["title"], "night city lights rain (2)");
  EXPECT_EQ(tracks[0]["performer"], "Suno");
  EXPECT_EQ(tracks[0]["thumbnail"]["width"], 300) << tracks[0].dump();
  // A cover Telegram cannot take as a thumbnail (beyond 320 px): sent without.
  kie_config({{"cover_px", 1024}});
  j["job_id"] = "job-song-big-cover";
  publish(j);
  ASSERT_EQ(read("gen.results", 2, 60s).size(), 2u) << job_record("job-song-big-cover");
  auto last = transcript().back();
  ASSERT_TRUE(last.contains("media")) << last.dump();
  EXPECT_EQ(last["media"]["title"], "night city lights rain (2)");
  EXPECT_FALSE(last["media"].contains("thumbnail"));
}

}  // namespace
