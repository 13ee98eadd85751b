// The dialog under load and failure: 100 chats in parallel in order, two
// replicas sharing a conversation when one dies, the whole flow through the
// generator to the delivered result, photos handed to KIE (and again on
// "repeat" once KIE deleted them), an apology when accounts is down, and
// buttons answered while their chat is busy.
#include <signal.h>

#include <sstream>
#include <thread>

#include "dialog_fixture.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using test::DialogTest;
using test::has_text;
using Clock = std::chrono::steady_clock;

namespace {

// What each message of the ordering test says, and how the reply reads.
const char* kSaid[] = {"/help", "/cancel", "hello"};
const char* kReply[] = {"Commands: /start", "There is nothing to cancel", "Pick what to do"};

}  // namespace

TEST_F(DialogTest, HundredChatsInParallelAnsweredInOrder) {
  start_ingress();
  constexpr int kChats = 100, kEach = 20;
  auto pattern = [](int chat, int i) { return (chat * 7 + i * i) % 3; };
  for (int i = 0; i < kEach; ++i) {
    for (int c = 0; c < kChats; ++c) say(10'000 + c, kSaid[pattern(c, i)]);
  }
  auto until = Clock::now() + 90s;
  int complete = 0;
  while (Clock::now() < until && complete < kChats) {
    complete = 0;
    for (int c = 0; c < kChats; ++c) complete += bot_messages(10'000 + c) >= static_cast<std::size_t>(kEach);
    std::this_thread::sleep_for(500ms);
  }
  ASSERT_EQ(complete, kChats);
  for (int c = 0; c < kChats; ++c) {
    std::vector<std::string> replies;
    for (const auto& m : transcript(10'000 + c)) {
      if (m["from"] == "bot") replies.push_back(m.value("text", ""));
    }
    ASSERT_EQ(replies.size(), static_cast<std::size_t>(kEach)) << "chat " << c;
    for (int i = 0; i < kEach; ++i) {
      EXPECT_NE(replies[i].find(kReply[pattern(c, i)]), std::string::npos)
          << "chat " << c << " reply " << i << ": " << replies[i];
    }
  }
}

TEST_F(DialogTest, SecondReplicaContinuesTheFormWhenTheFirstDies) {
  start_ingress();
  start_ingress();
  auto form = open_model(701, "text_to_image", "zi");
  press(701, form["message_id"], button_data(form, "1|go|"));
  wait_text(701, "Describe what you want");
  // Kill the replica that ran the conversation so far (and its lease, if it held it).
  auto handled = [&](std::size_t i) {
    auto r = request("GET", url(ingress_ports[i], "/metrics"));
    return r.body.find("dialog_updates_total{kind=\"message\"}") != std::string::npos;
  };
  std::size_t victim = handled(0) ? 0 : 1;
  ASSERT_TRUE(handled(victim));
  ingress[victim]->stop(SIGKILL, 1s);
  say(701, "a castle on a hill at dawn");
  auto confirm = wait_text(701, "Check and confirm", 40s);
  EXPECT_TRUE(has_text(confirm, "a castle on a hill at dawn"));
  EXPECT_TRUE(has_text(confirm, "Paid with a free generation"));
  press(701, confirm["message_id"], button_data(confirm, "1|ok|"));
  wait_text(701, "queued");
  auto jobs = read_until("gen.jobs", [](const json& j) { return j.value("user_id", 0) == 701; });
  EXPECT_EQ(jobs.back()["model"], "z-image");
  EXPECT_EQ(jobs.back()["input"]["prompt"], "a castle on a hill at dawn");
}

TEST_F(DialogTest, WholeFlowThroughTheGeneratorDeliversTheResult) {
  start_ingress();
  start_generator();
  request("POST", url(kie_port, "/control/config"),
          json{{"latency_ms", {{"waiting", 50}, {"queuing", 50}, {"generating", 200}}}}.dump());
  auto form = open_model(801, "text_to_image", "zi");
  press(801, form["message_id"], button(form, "16:9"));
  form = wait_for(801, [](const json& m) { return !button(m, "✅ 16:9").empty(); });
  press(801, form["message_id"], button_data(form, "1|go|"));
  wait_text(801, "Describe what you want");
  say(801, "a lighthouse in a storm");
  auto confirm = wait_text(801, "Check and confirm");
  press(801, confirm["message_id"], button_data(confirm, "1|ok|"));
  auto photo = wait_for(
      801, [](const json& m) { return m.contains("media") && m["media"].value("type", "") == "photo"; }, 30s);
  EXPECT_NE(photo.value("caption", "").find("a lighthouse in a storm"), std::string::npos) << photo.dump();
  auto account = user(801);
  EXPECT_EQ(account["free"]["used_today"], 1);
  EXPECT_EQ(account["held"], 0);
  EXPECT_EQ(request("GET", url(kie_port, "/control/stats")).json()["tasks_created"], 1);
  // The history learns the outcome from gen.results.
  auto until = Clock::now() + 15s;
  bool done = false;
  while (!done && Clock::now() < until) {
    say(801, "/history");
    std::this_thread::sleep_for(700ms);
    for (const auto& m : transcript(801)) done = done || has_text(m, "1. Z-Image: ✅ done");
  }
  EXPECT_TRUE(done) << transcript(801).dump(1);
}

TEST_F(DialogTest, PhotoGoesToKieStorageNotATelegramUrl) {
  start_ingress();
  fund(811, 10'000);
  auto form = open_model(811, "image_to_image", "ne");
  press(811, form["message_id"], button_data(form, "1|go|"));
  wait_text(811, "Describe what you want");
  say(811, "make it winter");
  wait_text(811, "Send the photo");
  control("POST", "/users/811/photos", {{"size", 2048}});
  auto confirm = wait_text(811, "Check and confirm");
  press(811, confirm["message_id"], button_data(confirm, "1|ok|"));
  auto jobs = read_until("gen.jobs", [](const json& j) { return j.value("user_id", 0) == 811; });
  auto image = jobs.back()["input"]["image_urls"][0].get<std::string>();
  EXPECT_EQ(image.find(test::kBotToken), std::string::npos) << image;
  EXPECT_EQ(image.rfind(url(kie_port, "/files/"), 0), 0u) << image;
  auto fetched = request("GET", image);
  EXPECT_EQ(fetched.status, 200);
  EXPECT_EQ(fetched.body.size(), 2048u);
}

// KIE deletes uploads after a while: "repeat" takes the photo from Telegram
// again (its file_id stays valid) and uploads it anew before the job is
// published, so the repeated job succeeds with a fresh URL.
TEST_F(DialogTest, RepeatUploadsAnExpiredPhotoAgain) {
  start_ingress({{"KIE_UPLOAD_REUSE_S", "1"}});
  start_generator();
  request("POST", url(kie_port, "/control/config"),
          json{{"latency_ms", {{"waiting", 50}, {"queuing", 50}, {"generating", 200}}}}.dump());
  fund(821, 100'000);
  auto form = open_model(821, "image_to_image", "ne");
  press(821, form["message_id"], button_data(form, "1|go|"));
  wait_text(821, "Describe what you want");
  say(821, "make it winter");
  wait_text(821, "Send the photo");
  control("POST", "/users/821/photos", {{"size", 2048}});
  auto confirm = wait_text(821, "Check and confirm");
  press(821, confirm["message_id"], button_data(confirm, "1|ok|"));
  auto is_photo = [](const json& m) {
    return m["from"] == "bot" && m.contains("media") && m["media"].value("type", "") == "photo";
  };
  wait_for(821, is_photo, 30s);
  auto first = read_until("gen.jobs", [](const json& j) { return j.value("user_id", 0) == 821; });
  auto old_url = first.back()["input"]["image_urls"][0].get<std::string>();
  // KIE deletes every upload; the ingress uses one for a second at most.
  request("POST", url(kie_port, "/control/config"), json{{"expire_uploads", true}}.dump());
  EXPECT_EQ(request("GET", old_url).status, 404);
  std::this_thread::sleep_for(1200ms);
  say(821, "/history");
  auto history = wait_text(821, "Your latest generations");
  press(821, history["message_id"], button_data(history, "1|rep|"));
  auto after = history["message_id"].get<std::int64_t>();
  auto again = wait_for(821, [&](const json& m) {
    return has_text(m, "Check and confirm") && m.value("message_id", std::int64_t{0}) > after;
  });
  press(821, again["message_id"], button_data(again, "1|ok|"));
  // gen.jobs is keyed by job id: the second job may come first.
  auto first_id = first.back()["job_id"].get<std::string>();
  auto jobs = read_until("gen.jobs", [&](const json& j) {
    return j.value("user_id", 0) == 821 && j.value("job_id", "") != first_id;
  });
  ASSERT_NE(jobs.back().value("job_id", ""), first_id);
  auto new_url = jobs.back()["input"]["image_urls"][0].get<std::string>();
  EXPECT_NE(new_url, old_url);
  EXPECT_EQ(request("GET", new_url).status, 200);
  auto photos = 0;
  auto until = Clock::now() + 30s;
  while (photos < 2 && Clock::now() < until) {
    photos = 0;
    for (const auto& m : transcript(821)) photos += is_photo(m) ? 1 : 0;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(photos, 2) << transcript(821).dump(1);
  auto stats = request("GET", url(kie_port, "/control/stats")).json();
  EXPECT_EQ(stats["uploads_made"], 2);
  EXPECT_EQ(stats["tasks_created"], 2);
}

// "Type a value" under a number's presets: a value outside KIE's range is
// refused with the range, one inside it reaches the job in KIE's type.
TEST_F(DialogTest, ATypedNumberIsCheckedAgainstTheRangeAndReachesTheJob) {
  start_ingress();
  fund(821, 10'000);
  auto form = open_model(821, "image_to_image", "kwi");
  press(821, form["message_id"], button(form, "Type a value"));
  wait_text(821, "Strength: how far the result may move away from your photo (lower keeps it closer) (from 0 to 1).");
  say(821, "1e999");
  wait_text(821, "That is not a number from 0 to 1. Type just the number, for example 0.8.");
  say(821, "0,65");
  form = wait_for(821, [](const json& m) { return !button(m, "✅ 0.65 ✏️").empty(); });
  press(821, form["message_id"], button_data(form, "1|go|"));
  wait_text(821, "Describe what you want made from your photo");
  say(821, "make it autumn");
  wait_text(821, "Send the photo");
  control("POST", "/users/821/photos", {{"size", 2048}});
  auto confirm = wait_text(821, "Strength: 0.65");
  press(821, confirm["message_id"], button_data(confirm, "1|ok|"));
  auto jobs = read_until("gen.jobs", [](const json& j) { return j.value("user_id", 0) == 821; });
  EXPECT_EQ(jobs.back()["input"]["strength"], 0.65);
}

TEST_F(DialogTest, AccountsDownGetsAnApologyAndButtonsStillAnswered) {
  start_ingress({{"DIALOG_MAX_CHATS", "4"}});
  say(901'1, "/start");
  auto menu = wait_text(901'1, "Hi, User9011");
  // A press queued behind the gift wheel's animation (about 2 s) is
  // answered by the watchdog within Telegram's patience.
  press(901'1, menu["message_id"], button(menu, "Gift"));
  auto cb = press(901'1, menu["message_id"], button(menu, "Help"));
  auto pressed = Clock::now();
  while (!answered(cb) && Clock::now() - pressed < 3s) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(answered(cb));
  EXPECT_LT(Clock::now() - pressed, 2s);
  wait_text(901'1, "You won");
  // accounts goes away: the update is retried, then the user hears of it.
  accounts->stop(SIGKILL, 1s);
  say(901'1, "/balance");
  wait_text(901'1, "Sorry, something went wrong on our side", 20s);
  EXPECT_NE(
      request("GET", url(ingress_ports[0], "/metrics")).body.find("dialog_update_outcomes_total{result=\"failed\"} 1"),
      std::string::npos);
}
