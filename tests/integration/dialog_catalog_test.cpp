// Every model of the catalog, through its form in tg-emulator as a user
// would fill it (default choices, a description, any other text, the files
// it needs), to kie-emulator (which validates the input against its own
// table written from KIE's pages) and back to the chat as the media kind the
// catalog promises.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>

#include "catalog.hpp"  // kie-emulator's
#include "kiebot/catalog/catalog.hpp"
#include "dialog_fixture.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using test::DialogTest;
using test::has_text;
using Clock = std::chrono::steady_clock;

namespace {

// The chat's newest bot message (an edit keeps its id and changes its text).
json last_bot_message(DialogTest& t, std::int64_t user) {
  json last;
  for (const auto& m : t.transcript(user)) {
    if (m.value("from", "") == "bot") last = m;
  }
  return last;
}

// Answers whatever the form asks until the price confirmation, then confirms.
// Returns "" or what went wrong.
std::string fill_form(DialogTest& t, std::int64_t user, const catalog::Model& model) {
  t.say(user, "/start");
  auto menu = t.wait_for(user, [](const json& m) { return !DialogTest::button_data(m, "1|cat|").empty(); });
  t.press(user, menu["message_id"], "1|cat|" + model.category);
  auto list = t.wait_for(user, [&](const json& m) { return !DialogTest::button_data(m, "1|mdl|" + model.code).empty(); });
  t.press(user, list["message_id"], "1|mdl|" + model.code);
  std::string handled = list.dump();
  auto until = Clock::now() + 30s;
  while (Clock::now() < until) {
    std::this_thread::sleep_for(100ms);
    auto m = last_bot_message(t, user);
    if (m.dump() == handled || m.is_null()) continue;
    handled = m.dump();
    auto id = m["message_id"];
    auto go = DialogTest::button_data(m, "1|go|");
    if (has_text(m, "Check and confirm")) {
      t.press(user, id, DialogTest::button_data(m, "1|ok|"));
      return "";
    }
    if (has_text(m, "Choose the parameters") || has_text(m, "or press Skip") ||
        (has_text(m, "Received: ") && !go.empty())) {
      t.press(user, id, go);
    } else if (has_text(m, "Describe what you want") || has_text(m, "✍️")) {
      t.say(user, "a calm sea at dusk");
    } else if (has_text(m, "📎")) {
      t.control("POST", "/users/" + std::to_string(user) + "/photos", {{"size", 2048}});
    } else if (has_text(m, "Send the audio")) {
      t.control("POST", "/users/" + std::to_string(user) + "/files",
                {{"kind", "audio"}, {"size", 4096}, {"mime_type", "audio/mpeg"}, {"file_name", "voice.mp3"}});
    } else if (has_text(m, "Send the video")) {
      t.control("POST", "/users/" + std::to_string(user) + "/files",
                {{"kind", "video"}, {"size", 4096}, {"mime_type", "video/mp4"}});
    } else if (!has_text(m, "queued")) {
      return "unexpected message: " + m.dump();
    }
  }
  return "the form did not reach the confirmation";
}

TEST_F(DialogTest, EveryCatalogModelsFormReachesKieAndDeliversItsMediaKind) {
  start_ingress();
  start_generator();
  request("POST", url(kie_port, "/control/config"),
          json{{"rate_limit", false}, {"latency_ms", {{"waiting", 0}, {"queuing", 0}, {"generating", 50}}}}.dump(),
          {{"Content-Type", "application/json"}});
  const auto& models = catalog::builtin_catalog().models();
  std::map<std::int64_t, const catalog::Model*> by_user;
  std::int64_t user = 30'000;
  for (const auto& m : models) {
    ++user;
    fund(user, 1'000'000);
    by_user[user] = &m;
    EXPECT_EQ(fill_form(*this, user, m), "") << m.id;
  }
  auto until = Clock::now() + 90s;
  std::map<std::string, std::string> problems;
  for (const auto& [u, m] : by_user) {
    json delivered;
    while (delivered.is_null() && Clock::now() < until) {
      for (const auto& msg : transcript(u)) {
        if (msg.value("from", "") == "bot" && msg.contains("media")) delivered = msg;
        if (has_text(msg, "You were not charged")) problems[m->id] = msg.dump();
      }
      if (problems.count(m->id)) break;
      if (delivered.is_null()) std::this_thread::sleep_for(200ms);
    }
    if (problems.count(m->id)) continue;
    if (delivered.is_null()) {
      problems[m->id] = "nothing delivered";
      continue;
    }
    if (delivered["media"].value("type", "") != m->deliver) {
      problems[m->id] = "delivered as " + delivered["media"].value("type", "") + ", not " + m->deliver;
    }
  }
  EXPECT_EQ(problems, (std::map<std::string, std::string>{}));
  // Market tasks are counted by model; Suno's by the version in the body
  // (each Suno form defaults to V5); the other families' by their route.
  auto stats = request("GET", url(kie_port, "/control/stats")).json();
  int suno = 0;
  for (const auto& m : models) {
    if (m.api == "suno") {
      ++suno;
    } else {
      auto counted = m.api == "market" ? m.id : kie::model_for(m.api, m.id)->id;
      EXPECT_EQ(stats["by_model"].value(counted, 0), 1) << m.id << " reached KIE once";
    }
  }
  EXPECT_EQ(stats["by_model"].value("suno/V5", 0), suno);
}

}  // namespace
