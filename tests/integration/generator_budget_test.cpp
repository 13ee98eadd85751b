// KIE's limit on new tasks (20 per 10 s per account, 429 beyond it) is one
// budget in Redis for every replica: a burst larger than it waits for
// slots instead of each replica retrying its own 429s.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <string>

#include "generator_fixture.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using test::GeneratorTest;

namespace {

std::string kieLimit() {
  const char* v = std::getenv("KIEBOT_TEST_KIE_RATE_LIMIT");  // to see the test fail without the budget
  return v ? v : "20";
}

TEST_F(GeneratorTest, TwoReplicasShareKiesNewTaskBudgetAndNeverMeetA429) {
  std::map<std::string, std::string> env{{"KAFKA_CFG_SESSION_TIMEOUT_MS", "6000"},
                                         {"KAFKA_CFG_HEARTBEAT_INTERVAL_MS", "500"},
                                         {"KIE_RATE_LIMIT", kieLimit()}};
  start_generator(env);
  start_generator(env);
  // KIE's limit on: 20 new tasks per 10 s, 429 beyond.
  kie_config({{"latency_ms", {{"waiting", 0}, {"queuing", 0}, {"generating", 50}}}, {"rate_limit", true}});
  constexpr int kJobs = 26;
  for (int i = 0; i < kJobs; ++i) publish(job("burst-" + std::to_string(i), ""));
  auto results = read("gen.results", kJobs, 60s);
  ASSERT_EQ(results.size(), static_cast<std::size_t>(kJobs));
  for (const auto& r : results) EXPECT_EQ(r["status"], "succeeded") << r.dump();
  EXPECT_EQ(kie_stats()["tasks_created"], kJobs);
  double waits = 0, refused = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    waits += std::max(0.0, metric(i, "generator_kie_budget_waits_total"));
    refused += std::max(0.0, metric(i, "generator_kie_answers_total{call=\"createTask\",outcome=\"retry_429\"}"));
  }
  EXPECT_GT(waits, 0) << "the jobs beyond 20 waited for the budget";
  EXPECT_EQ(refused, 0) << "KIE never had to refuse one";
}

}  // namespace
