// Prometheus text rendering.
#include <gtest/gtest.h>

#include "kiebot/base/metrics.hpp"

using namespace kiebot::metrics;

TEST(Metrics, RendersCountersGaugesHistograms) {
  Registry reg;
  reg.counter("jobs_total", "Jobs", {{"state", "done"}}).inc(2);
  reg.counter("jobs_total", "Jobs", {{"state", "done"}}).inc();
  reg.gauge("lease_held", "Lease").set(1);
  auto& h = reg.histogram("latency_seconds", "Latency", {}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  auto text = reg.render();
  EXPECT_NE(text.find("# TYPE jobs_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("jobs_total{state=\"done\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lease_held 1\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"0.10000000000000001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_count 3\n"), std::string::npos);
  EXPECT_THROW(reg.gauge("jobs_total", "x"), std::logic_error);
}

TEST(Metrics, EscapesLabelValues) {
  Registry reg;
  reg.counter("c", "help", {{"path", "a\"b\\c"}}).inc();
  EXPECT_NE(reg.render().find("c{path=\"a\\\"b\\\\c\"} 1"), std::string::npos);
}
