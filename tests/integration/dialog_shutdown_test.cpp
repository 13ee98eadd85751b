// The ingress gets SIGTERM while the dialog is answering many chats: it exits
// 0, and what it had not answered is answered by the next replica, once.
#include <csignal>
#include <thread>

#include "dialog_fixture.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using test::DialogTest;
using test::has_text;

TEST_F(DialogTest, SigtermMidTrafficHandsTheRestToTheNextReplicaAndAnswersEveryChatOnce) {
  constexpr std::int64_t kFirst = 70'000;
  constexpr int kUsers = 300;
  start_ingress();
  for (int u = 0; u < kUsers; ++u) say(kFirst + u, "/start");
  auto ok = [&] { return metric(0, "dialog_update_outcomes_total{result=\"ok\"}"); };
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (ok() < 30 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_GE(ok(), 30) << ingress[0]->stderr_text();
  auto& first = *ingress[0];
  ASSERT_EQ(::kill(first.pid(), SIGTERM), 0);
  auto signalled_at = std::chrono::steady_clock::now();
  while (first.running() && std::chrono::steady_clock::now() < signalled_at + 30s) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(first.stop(SIGKILL, 1s), 0) << first.stderr_text();
  auto log = first.stderr_text();
  EXPECT_NE(log.find("\"dialog_stopped\""), std::string::npos);
  EXPECT_EQ(log.find("AddressSanitizer"), std::string::npos);

  start_ingress();
  for (int u = 0; u < kUsers; ++u) {
    wait_text(kFirst + u, "Hi, User" + std::to_string(kFirst + u), 60s);
  }
  std::this_thread::sleep_for(1s);  // a duplicate, if any, would follow its original closely
  int duplicated = 0;
  for (int u = 0; u < kUsers; ++u) {
    int menus = 0;
    for (const auto& m : transcript(kFirst + u)) menus += has_text(m, "Hi, User");
    duplicated += menus > 1;
  }
  EXPECT_EQ(duplicated, 0) << "chats answered twice across the handover";
}
