// The sandbox page in a real browser (Debian's chromium driven by
// playwright-core): a user starts the bot, fills a generation form, gets the
// image, and switches to English. Skipped, saying how to install them, when
// Node.js, chromium or playwright-core are missing.
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "dialog_fixture.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;
using test::DialogTest;

namespace {

// The program's full path from PATH (the test's processes are started with execve).
std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    auto candidate = std::filesystem::path(dirs.substr(start, end - start)) / name;
    if (!dirs.substr(start, end - start).empty() && std::filesystem::exists(candidate)) return candidate.string();
    start = end + 1;
  }
  return {};
}

}  // namespace

TEST_F(DialogTest, SandboxPageGeneratesAnImageInABrowser) {
  std::string source = KIEBOT_SOURCE_DIR;
  const char* chromium_env = std::getenv("CHROMIUM");
  std::string chromium = chromium_env ? chromium_env : "/usr/bin/chromium";
  auto node = find_program("node");
  if (node.empty()) GTEST_SKIP() << "Node.js is missing: ./dev setup installs it";
  if (!std::filesystem::exists(chromium))
    GTEST_SKIP() << chromium << " is missing: ./dev setup installs Debian's chromium";
  if (!std::filesystem::exists(source + "/tests/browser/node_modules/playwright-core")) {
    GTEST_SKIP() << "playwright-core is missing: ./dev setup runs npm ci in tests/browser";
  }
  auto replica = start_ingress();
  start_generator();
  request("POST", url(kie_port, "/control/config"),
          json{{"latency_ms", {{"waiting", 100}, {"queuing", 100}, {"generating", 800}}}}.dump());
  json sandbox = {{"ingress", {url(ingress_ports[replica], "")}},
                  {"ingress_token", test::kAdminApiToken},
                  {"accounts", url(accounts_port, "")},
                  {"accounts_token", test::kAccountsToken}};
  control("POST", "/sandbox", sandbox);
  auto screenshot = std::filesystem::path(KIEBOT_BIN_DIR).parent_path() / "sandbox.png";
  test::Process browser({node, source + "/tests/browser/sandbox.mjs", url(tg_port, ""), screenshot.string()},
                        {{"CHROMIUM", chromium},
                         {"PATH", std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"},
                         {"HOME", std::getenv("HOME") ? std::getenv("HOME") : "/tmp"}});
  auto until = std::chrono::steady_clock::now() + 150s;
  while (browser.running() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(200ms);
  auto status = browser.stop(SIGKILL, 1s);
  EXPECT_EQ(status, 0) << browser.stderr_text();
  EXPECT_TRUE(std::filesystem::exists(screenshot));
  // What the page showed was real: the job ran and the user was charged nothing (a free generation).
  auto account = user(4242);
  EXPECT_EQ(account["free"]["used_today"], 1);
  EXPECT_EQ(account["language"], "en");
}
