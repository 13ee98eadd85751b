// The public job API validates a job's input against the catalog before any
// KIE call (docs/jobs.md): a model the catalog does not sell, a missing,
// unknown or mistyped field, a value outside its options and too many files
// each fail the job with a precise reason, copy it to the DLQ and release
// the job's own hold.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>

#include "generator_fixture.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using test::GeneratorTest;

namespace {

TEST_F(GeneratorTest, InvalidInputsGoToTheDlqWithTheirReasonAndReleaseTheHold) {
  start_generator();
  const json fox = {{"prompt", "a fox"}, {"output_format", "png"}, {"aspect_ratio", "1:1"}};
  auto with = [&](const char* name, json value) {
    auto input = fox;
    if (value.is_null()) input.erase(name); else input[name] = std::move(value);
    return json{{"input", input}};
  };
  std::map<std::string, std::pair<json, std::string>> cases{
      {"in-model", {{{"model", "no/such-model"}}, "model_not_sold: model: no/such-model is not in the catalog"}},
      {"in-unknown", {with("image_size", "1:1"), "invalid_input: input.image_size: not a field of google/nano-banana"}},
      {"in-missing", {with("prompt", nullptr), "invalid_input: input.prompt: required"}},
      {"in-type", {with("prompt", 42), "invalid_input: input.prompt: expected a string"}},
      {"in-option", {with("aspect_ratio", "7:3"), "invalid_input: input.aspect_ratio: expected one of 1:1, 9:16, 16:9, 3:4, 4:3, 3:2, 2:3, 21:9"}},
      {"in-files", {{{"model", "google/nano-banana-edit"},
                     {"input", {{"prompt", "hat"}, {"image_urls", json::array({"https://a.example/1.png", "https://a.example/2.png"})}}}},
                    "invalid_input: input.image_urls: expected an array of 1..1 URL"}},
  };
  std::map<std::string, std::string> holds;
  for (const auto& [id, c] : cases) {
    holds[id] = hold(id, 100'000);
    publish(job(id, holds[id], c.first));
  }
  std::set<std::string> want, got;
  for (const auto& d : read("gen.jobs.dlq", cases.size())) got.insert(d["reason"].get<std::string>());
  std::map<std::string, std::string> codes;
  for (const auto& r : read("gen.results", cases.size())) codes[r["job_id"]] = r["error"]["code"];
  for (const auto& [id, c] : cases) {
    EXPECT_EQ(codes[id], id == "in-model" ? "model_not_sold" : "invalid_input") << id;
    EXPECT_EQ(accounts_call("GET", "/v1/holds/" + holds[id])["state"], "released") << id;
  }
  for (const auto& [id, c] : cases) want.insert(c.second);
  EXPECT_EQ(got, want);
  EXPECT_EQ(kie_stats()["tasks_created"], 0) << "nothing reached KIE";
  EXPECT_EQ(metric(0, "generator_invalid_input_total{reason=\"input\"}"), 5);
}

}  // namespace
