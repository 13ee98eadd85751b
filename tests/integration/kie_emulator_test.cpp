// kie-emulator over real HTTP: task states, callbacks and their retries,
// KIE's error codes, result files.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <thread>

#include "kiebot/http/client.hpp"
#include "local_server.hpp"
#include "process.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct Kie : testing::Test {
  std::unique_ptr<test::Process> emulator;
  std::uint16_t port = 0;
  net::io_context io;
  http::Client client{io.get_executor()};

  // Callback receiver in this process.
  std::vector<json> callbacks;
  int fail_callbacks = 0;
  std::unique_ptr<test::LocalServer> receiver;

  void SetUp() override {
    emulator = std::make_unique<test::Process>(std::vector<std::string>{std::string(KIEBOT_BIN_DIR) + "/kie-emulator"},
                                               std::map<std::string, std::string>{{"HTTP_PORT", "0"}});
    port = emulator->listening_port(10s);
    configure({{"latency_ms", {{"waiting", 30}, {"queuing", 30}, {"generating", 60}}}, {"callback_retry_ms", 30}});
    http::Router router;
    router.add("POST", "/kie/callback", http::SyncHandler([this](const http::Request& r) {
                 if (fail_callbacks > 0) {
                   --fail_callbacks;
                   return http::Response::text(503, "busy");
                 }
                 callbacks.push_back(json::parse(r.body));
                 return http::Response::text(200, "ok");
               }));
    receiver = std::make_unique<test::LocalServer>(io, std::move(router));
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
  std::string callback_url() const { return receiver->url("/kie/callback"); }

  http::Response send(const std::string& method, const std::string& path, const std::string& body = "",
                      const std::string& key = "sandbox-key") {
    http::ClientRequest r{method, url(path), {{"Authorization", "Bearer " + key}}, body, 10s};
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    return test::run(io, client.send(std::move(r)));
  }
  json configure(const json& config) { return send("POST", "/control/config", config.dump()).json(); }
  json create(const json& body, const std::string& key = "sandbox-key") {
    auto r = send("POST", "/api/v1/jobs/createTask", body.dump(), key);
    EXPECT_TRUE(r.status == 200 || r.status == 401) << r.body;
    return r.json();
  }
  json record(const std::string& task) { return send("GET", "/api/v1/jobs/recordInfo?taskId=" + task).json(); }
  json wait_done(const std::string& task) {
    for (int i = 0; i < 200; ++i) {
      auto r = record(task);
      auto state = r["data"]["state"].get<std::string>();
      if (state == "success" || state == "fail") return r;
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "task never finished";
    return {};
  }
  // Serves the callback receiver while waiting for `n` callbacks (or time).
  void wait_callbacks(std::size_t n, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (callbacks.size() < n && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
  }
};

json image_task() {
  return {{"model", "z-image"}, {"input", {{"prompt", "a red fox"}, {"aspect_ratio", "1:1"}}}};
}

}  // namespace

TEST_F(Kie, TaskGoesThroughStatesToSuccessWithARealFile) {
  configure({{"latency_ms", {{"waiting", 150}, {"queuing", 150}, {"generating", 150}}}, {"result_size", 300'000}});
  auto created = create(image_task());
  ASSERT_EQ(created["code"], 200) << created;
  auto task = created["data"]["taskId"].get<std::string>();
  std::vector<std::string> seen;
  for (int i = 0; i < 300; ++i) {
    auto state = record(task)["data"]["state"].get<std::string>();
    if (seen.empty() || seen.back() != state) seen.push_back(state);
    if (state == "success") break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"waiting", "queuing", "generating", "success"}));
  auto done = record(task)["data"];
  EXPECT_EQ(done["model"], "z-image");
  EXPECT_GE(done["costTime"].get<std::int64_t>(), 400);
  EXPECT_EQ(json::parse(done["param"].get<std::string>())["input"]["prompt"], "a red fox");
  auto urls = json::parse(done["resultJson"].get<std::string>())["resultUrls"];
  ASSERT_EQ(urls.size(), 1u);
  auto file = test::run(io, client.get(urls[0].get<std::string>()));
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.header("content-type"), "image/png");
  EXPECT_EQ(file.body.size(), 300'000u);
  EXPECT_EQ(file.body.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(file.body.substr(file.body.size() - 8, 4), "IEND");
}

TEST_F(Kie, VideoAndAudioResults) {
  auto video =
      create({{"model", "kling-2.6/text-to-video"},
              {"input", {{"prompt", "waves"}, {"sound", false}, {"aspect_ratio", "16:9"}, {"duration", "5"}}}});
  auto audio = create({{"model", "elevenlabs/text-to-speech-turbo-2-5"}, {"input", {{"text", "hello"}, {"voice", "EkK5I93UQWFDigLMpZcX"}}}});
  for (auto [created, type, magic] : {std::tuple{video, "video/mp4", std::string("ftyp")},
                                      std::tuple{audio, "audio/mpeg", std::string("\xff\xfb", 2)}}) {
    auto done = wait_done(created["data"]["taskId"].get<std::string>())["data"];
    auto u = json::parse(done["resultJson"].get<std::string>())["resultUrls"][0].get<std::string>();
    auto file = test::run(io, client.get(u));
    EXPECT_EQ(file.header("content-type"), type);
    EXPECT_NE(file.body.substr(0, 8).find(magic), std::string::npos);
  }
}

TEST_F(Kie, CallbackIsRetriedUntilDelivered) {
  fail_callbacks = 2;
  auto body = image_task();
  body["callBackUrl"] = callback_url();
  auto task = create(body)["data"]["taskId"].get<std::string>();
  wait_callbacks(1, 10s);
  ASSERT_EQ(callbacks.size(), 1u);
  EXPECT_EQ(callbacks[0]["code"], 200);
  EXPECT_EQ(callbacks[0]["data"]["taskId"], task);
  EXPECT_EQ(callbacks[0]["data"]["state"], "success");
  json stats;
  for (int i = 0; i < 100; ++i) {  // the emulator counts once it has read our answer
    stats = send("GET", "/control/stats").json();
    if (stats["callbacks_sent"] == 1) break;
    io.run_one_for(10ms);
  }
  EXPECT_EQ(stats["callbacks_sent"], 1);
  EXPECT_EQ(stats["callbacks_failed"], 2);
}

// KIE's Suno API (docs.kie.ai suno-api): top-level fields, a required
// callBackUrl, the mode rules, callbacks in stages (text, first, complete)
// with snake_case items, record-info with camelCase tracks.
TEST_F(Kie, SunoGeneratesTwoTracksWithCallbacksInStages) {
  auto generate = [&](json body) { return send("POST", "/api/v1/generate", body.dump()).json(); };
  json song = {{"prompt", "a calm song about the sea"}, {"customMode", false}, {"instrumental", false},
               {"model", "V5"}, {"callBackUrl", callback_url()}};
  auto without_callback = song;
  without_callback.erase("callBackUrl");
  EXPECT_EQ(generate(without_callback)["code"], 422);
  auto custom = song;
  custom["customMode"] = true;  // needs a style and a title
  EXPECT_EQ(generate(custom)["code"], 422);
  auto long_idea = song;
  long_idea["prompt"] = std::string(501, 'x');  // the description mode takes 500
  EXPECT_EQ(generate(long_idea)["code"], 422);
  auto old_version = song;
  old_version["model"] = "V3_5";
  EXPECT_EQ(generate(old_version)["code"], 422);
  EXPECT_EQ(create({{"model", "suno/generate"}, {"input", song}})["code"], 422) << "not a market model";
  auto created = generate(song);
  ASSERT_EQ(created["code"], 200) << created.dump();
  auto task = created["data"]["taskId"].get<std::string>();
  wait_callbacks(3, 10s);
  ASSERT_EQ(callbacks.size(), 3u);
  EXPECT_EQ(callbacks[0]["data"]["callbackType"], "text");
  EXPECT_EQ(callbacks[1]["data"]["callbackType"], "first");
  EXPECT_EQ(callbacks[2]["data"]["callbackType"], "complete");
  EXPECT_EQ(callbacks[2]["data"]["task_id"], task);
  ASSERT_EQ(callbacks[2]["data"]["data"].size(), 2u);
  auto info = send("GET", "/api/v1/generate/record-info?taskId=" + task).json();
  EXPECT_EQ(info["data"]["status"], "SUCCESS");
  auto tracks = info["data"]["response"]["sunoData"];
  ASSERT_EQ(tracks.size(), 2u);
  auto audio = send("GET", tracks[1]["audioUrl"].get<std::string>().substr(url("").size()));
  EXPECT_EQ(audio.status, 200);
  EXPECT_EQ(audio.header("content-type").value_or(""), "audio/mpeg");
  EXPECT_EQ(send("GET", "/api/v1/generate/record-info?taskId=nope").json()["code"], 404);
}

TEST_F(Kie, CallbacksCanBeDuplicatedOrDropped) {
  configure({{"callback_mode", "duplicate"}});
  auto body = image_task();
  body["callBackUrl"] = callback_url();
  create(body);
  wait_callbacks(2, 10s);
  EXPECT_EQ(callbacks.size(), 2u);
  EXPECT_EQ(callbacks[0], callbacks[1]);
  configure({{"callback_mode", "drop"}});
  auto task = create(body)["data"]["taskId"].get<std::string>();
  wait_done(task);
  wait_callbacks(3, 500ms);
  EXPECT_EQ(callbacks.size(), 2u);
}

TEST_F(Kie, FailedGenerationReportsFailCodeAndCallback) {
  configure({{"failure_rate", 1.0}});
  auto body = image_task();
  body["callBackUrl"] = callback_url();
  auto task = create(body)["data"]["taskId"].get<std::string>();
  auto done = wait_done(task)["data"];
  EXPECT_EQ(done["state"], "fail");
  EXPECT_FALSE(done["failCode"].get<std::string>().empty());
  EXPECT_FALSE(done["failMsg"].get<std::string>().empty());
  wait_callbacks(1, 5s);
  ASSERT_EQ(callbacks.size(), 1u);
  EXPECT_EQ(callbacks[0]["code"], 501);
  EXPECT_EQ(callbacks[0]["data"]["state"], "fail");
}

TEST_F(Kie, ErrorsAsKieSendsThem) {
  EXPECT_EQ(send("POST", "/api/v1/jobs/createTask", image_task().dump(), "wrong-key").status, 401);
  EXPECT_EQ(send("GET", "/api/v1/chat/credit", "", "wrong-key").status, 401);
  EXPECT_EQ(create({{"model", "no-such-model"}, {"input", json::object()}})["code"], 422);
  EXPECT_EQ(create({{"model", "z-image"}, {"input", {{"aspect_ratio", "1:1"}}}})["code"], 422);  // no prompt
  EXPECT_EQ(create({{"model", "z-image"}, {"input", {{"prompt", "x"}, {"aspect_ratio", "2:1"}}}})["code"], 422);
  EXPECT_EQ(
      create({{"model", "z-image"}, {"input", {{"prompt", std::string(1001, 'x')}, {"aspect_ratio", "1:1"}}}})["code"],
      422);
  EXPECT_EQ(
      create({{"model", "kling-2.6/text-to-video"},
              {"input", {{"prompt", "x"}, {"sound", "yes"}, {"aspect_ratio", "1:1"}, {"duration", "5"}}}})["code"],
      422);
  configure({{"maintenance", true}});
  EXPECT_EQ(create(image_task())["code"], 455);
  configure({{"maintenance", false}, {"fail_next_create", {{"code", 500}, {"count", 2}}}});
  EXPECT_EQ(create(image_task())["code"], 500);
  EXPECT_EQ(create(image_task())["code"], 500);
  EXPECT_EQ(create(image_task())["code"], 200);
  configure({{"fail_next_create", {{"code", 505}, {"count", 1}}}});
  EXPECT_EQ(create(image_task())["code"], 505);
  configure({{"credits", 3}});
  EXPECT_EQ(send("GET", "/api/v1/chat/credit").json()["data"], 3);
  EXPECT_EQ(create({{"model", "google/nano-banana"}, {"input", {{"prompt", "x"}}}})["code"], 402);
  EXPECT_EQ(create(image_task())["code"], 200);  // 1 credit: still affordable
  EXPECT_EQ(send("GET", "/api/v1/chat/credit").json()["data"], 2);
  EXPECT_EQ(record("task_nope")["code"], 422);
}

TEST_F(Kie, RateLimitsTwentyTasksPerTenSeconds) {
  configure({{"reset_rate_window", true}});
  int ok = 0;
  for (int i = 0; i < 20; ++i) ok += create(image_task())["code"] == 200 ? 1 : 0;
  EXPECT_EQ(ok, 20);
  auto limited = create(image_task());
  EXPECT_EQ(limited["code"], 429);
  configure({{"rate_limit", false}});
  EXPECT_EQ(create(image_task())["code"], 200);
  auto stats = send("GET", "/control/stats").json();
  EXPECT_EQ(stats["tasks_created"], 21);
  EXPECT_EQ(stats["by_model"]["z-image"], 21);
}

TEST_F(Kie, UploadsAndDownloadUrls) {
  auto up = send("POST", "/api/file-base64-upload",
                 json{{"base64Data", "data:image/png;base64,aGVsbG8gd29ybGQ="}, {"fileName", "in.png"}}.dump());
  ASSERT_EQ(up.status, 200);
  auto data = up.json()["data"];
  auto file = test::run(io, client.get(data["downloadUrl"].get<std::string>()));
  EXPECT_EQ(file.body, "hello world");
  auto link = send("POST", "/api/v1/common/download-url", json{{"url", data["downloadUrl"]}}.dump()).json();
  EXPECT_EQ(link["code"], 200);
  EXPECT_EQ(send("POST", "/api/v1/common/download-url", json{{"url", "https://elsewhere/x"}}.dump()).json()["code"],
            422);
  EXPECT_EQ(send("POST", "/api/file-base64-upload", json{{"base64Data", "%%%"}}.dump()).json()["code"], 400);
}

// KIE deletes uploads after their lifetime: the file answers 404, and a task
// naming it is created but fails with 451 (KIE fetches inputs when it runs).
TEST_F(Kie, UploadsExpireAndTasksNamingThemFail) {
  auto upload = [&] {
    auto up = send("POST", "/api/file-base64-upload", json{{"base64Data", "aGVsbG8="}, {"fileName", "in.png"}}.dump());
    return up.json()["data"];
  };
  auto task_with = [&](const std::string& image) {
    json body = {{"model", "qwen/image-edit"}, {"input", {{"prompt", "winter"}, {"image_url", image}}}};
    return create(body)["data"]["taskId"].get<std::string>();
  };
  EXPECT_EQ(configure(json::object())["upload_ttl_ms"], 3 * 24 * 3600 * 1000);
  auto first = upload();
  EXPECT_EQ(first["uploadedAt"].get<std::string>().size(), 24u) << first;  // 2025-01-01T12:00:00.000Z
  auto fresh = task_with(first["downloadUrl"]);
  EXPECT_EQ(wait_done(fresh)["data"]["state"], "success");
  configure({{"expire_uploads", true}});
  EXPECT_EQ(test::run(io, client.get(first["downloadUrl"].get<std::string>())).status, 404);
  auto done = wait_done(task_with(first["downloadUrl"]))["data"];
  EXPECT_EQ(done["state"], "fail");
  EXPECT_EQ(done["failCode"], "451");
  // A short lifetime ends on its own; a new upload is stored again.
  configure({{"upload_ttl_ms", 300}});
  auto second = upload();
  EXPECT_EQ(test::run(io, client.get(second["downloadUrl"].get<std::string>())).status, 200);
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(test::run(io, client.get(second["downloadUrl"].get<std::string>())).status, 404);
  auto stats = send("GET", "/control/stats").json();
  EXPECT_EQ(stats["uploads_made"], 2);
  EXPECT_EQ(stats["uploads_stored"], 0);
}

// Task runners are children of the emulator's task group: SIGTERM with
// tasks in flight ends them within the group's grace and exits 0, with no
// task left behind its owner.
TEST_F(Kie, SigtermWithTasksInFlightJoinsThemAndExitsZero) {
  configure({{"latency_ms", {{"waiting", 60'000}, {"queuing", 60'000}, {"generating", 60'000}}}});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(create(image_task())["code"], 200);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(emulator->stop(SIGTERM, 10s), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
  auto log = emulator->stderr_text();
  EXPECT_NE(log.find("\"task_group_unfinished\""), std::string::npos) << log;
  EXPECT_EQ(log.find("task_group_abandoned"), std::string::npos) << log;
  EXPECT_EQ(log.find("drain_timeout"), std::string::npos) << log;
}
