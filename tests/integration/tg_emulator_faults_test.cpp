// tg-emulator's answers for chats that cannot take a message (blocked bot,
// gone chat, a long flood wait), for photos beyond Telegram's limits, and
// for audio titles and thumbnails.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tg_fixture.hpp"

using namespace kiebot;
using namespace std::chrono_literals;
using nlohmann::json;

using test::kToken;
using test::Tg;

namespace {

// A multipart body: text fields, then files as (field, filename, bytes).
std::string multipart(const std::string& boundary, const json& fields,
                      const std::vector<std::tuple<std::string, std::string, std::string>>& files) {
  std::string body;
  for (auto& [k, v] : fields.items()) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" +
            (v.is_string() ? v.get<std::string>() : v.dump()) + "\r\n";
  }
  for (const auto& [field, name, bytes] : files) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" + name +
            "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + bytes + "\r\n";
  }
  return body + "--" + boundary + "--\r\n";
}

}  // namespace

TEST_F(Tg, ChatFaultsAnswerAsTelegramDoes) {
  user_says(21, "hi");
  user_says(22, "hi");
  control("POST", "/config", {{"flood_control", false}});
  control("POST", "/chats/21/fault", {{"kind", "blocked"}});
  auto blocked = api("sendMessage", {{"chat_id", 21}, {"text", "result"}});
  EXPECT_EQ(blocked["error_code"], 403);
  EXPECT_EQ(description(blocked), "Forbidden: bot was blocked by the user");
  EXPECT_EQ(api("sendPhoto", {{"chat_id", 21}, {"photo", local_url("/media/10")}})["error_code"], 403);
  // Other chats are not affected.
  EXPECT_TRUE(api("sendMessage", {{"chat_id", 22}, {"text", "result"}})["ok"].get<bool>());
  control("POST", "/chats/21/fault", {{"kind", "not_found"}});
  EXPECT_EQ(description(api("editMessageText", {{"chat_id", 21}, {"message_id", 1}, {"text", "x"}})),
            "Bad Request: chat not found");
  control("POST", "/chats/21/fault", {{"kind", "none"}});
  EXPECT_TRUE(api("sendMessage", {{"chat_id", 21}, {"text", "back"}})["ok"].get<bool>());
  EXPECT_EQ(raw("POST", "/control/chats/21/fault", json{{"kind", "asleep"}}.dump()).status, 400);
}

TEST_F(Tg, ALongFloodWaitLastsItsRetryAfter) {
  user_says(23, "hi");
  control("POST", "/chats/23/fault", {{"kind", "flood"}, {"retry_after", 2}});
  auto r = raw("POST", std::string("/bot") + kToken + "/sendMessage", json{{"chat_id", 23}, {"text", "x"}}.dump());
  ASSERT_EQ(r.status, 429) << r.body;
  auto wait = r.json()["parameters"]["retry_after"].get<int>();
  EXPECT_EQ(wait, 2);
  EXPECT_EQ(r.header("retry-after"), "2");
  EXPECT_EQ(r.json()["description"], "Too Many Requests: retry after 2");
  // Until it is over, every call waits; then the chat takes messages again.
  control("POST", "/chats/23/fault", {{"kind", "flood"}, {"retry_after", 75}});
  auto long_wait = api("sendMessage", {{"chat_id", 23}, {"text", "x"}});
  EXPECT_EQ(long_wait["parameters"]["retry_after"], 75);
  control("POST", "/chats/23/fault", {{"kind", "flood"}, {"retry_after", 1}});
  std::this_thread::sleep_for(1100ms);
  EXPECT_TRUE(api("sendMessage", {{"chat_id", 23}, {"text", "x"}})["ok"].get<bool>());
}

TEST_F(Tg, PhotosBeyondTelegramsDimensionsAreRefused) {
  user_says(24, "hi");
  control("POST", "/config", {{"flood_control", false}});
  auto fits = api("sendPhoto", {{"chat_id", 24}, {"photo", local_url("/image/4000/3000")}});
  ASSERT_TRUE(fits["ok"].get<bool>()) << fits;
  EXPECT_EQ(fits["result"]["photo"][0]["width"], 4000);
  EXPECT_EQ(fits["result"]["photo"][0]["height"], 3000);
  // width + height above 10000, and a ratio above 20.
  EXPECT_EQ(description(api("sendPhoto", {{"chat_id", 24}, {"photo", local_url("/image/8000/2001")}})),
            "Bad Request: PHOTO_INVALID_DIMENSIONS");
  EXPECT_EQ(description(api("sendPhoto", {{"chat_id", 24}, {"photo", local_url("/image/2100/100")}})),
            "Bad Request: PHOTO_INVALID_DIMENSIONS");
  // By upload as well; the same file as a document is fine.
  std::string boundary = "kiebotBoundary9";
  auto body = multipart(boundary, {{"chat_id", 24}}, {{"photo", "wide.png", test::png_header(12000, 100)}});
  auto up = raw("POST", std::string("/bot") + kToken + "/sendPhoto", body, "multipart/form-data; boundary=" + boundary);
  EXPECT_EQ(up.status, 400);
  EXPECT_EQ(up.json()["description"], "Bad Request: PHOTO_INVALID_DIMENSIONS");
  body = multipart(boundary, {{"chat_id", 24}}, {{"document", "wide.png", test::png_header(12000, 100)}});
  up = raw("POST", std::string("/bot") + kToken + "/sendDocument", body, "multipart/form-data; boundary=" + boundary);
  EXPECT_EQ(up.status, 200) << up.body;
}

TEST_F(Tg, AudioCarriesItsTitleAndAThumbnailTelegramCanUse) {
  user_says(25, "hi");
  control("POST", "/config", {{"flood_control", false}});
  std::string boundary = "kiebotBoundary10";
  json fields = {{"chat_id", 25},
                 {"audio", local_url("/media/3000")},
                 {"title", "Iron Sky"},
                 {"performer", "Suno"},
                 {"duration", 198},
                 {"thumbnail", "attach://cover"}};
  auto body = multipart(boundary, fields, {{"cover", "cover.jpg", test::jpeg_header(300, 300, 5000)}});
  auto sent = raw("POST", std::string("/bot") + kToken + "/sendAudio", body, "multipart/form-data; boundary=" + boundary);
  ASSERT_EQ(sent.status, 200) << sent.body;
  auto audio = sent.json()["result"]["audio"];
  EXPECT_EQ(audio["title"], "Iron Sky");
  EXPECT_EQ(audio["performer"], "Suno");
  EXPECT_EQ(audio["duration"], 198);
  EXPECT_EQ(audio["thumbnail"]["width"], 300);
  // A thumbnail beyond 320 px (or not a JPEG, or 200 kB and more) is ignored.
  body = multipart(boundary, fields, {{"cover", "cover.jpg", test::jpeg_header(1024, 1024, 5000)}});
  sent = raw("POST", std::string("/bot") + kToken + "/sendAudio", body, "multipart/form-data; boundary=" + boundary);
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_FALSE(sent.json()["result"]["audio"].contains("thumbnail"));
  body = multipart(boundary, fields, {{"cover", "cover.jpg", test::jpeg_header(300, 300, 200'000)}});
  sent = raw("POST", std::string("/bot") + kToken + "/sendAudio", body, "multipart/form-data; boundary=" + boundary);
  EXPECT_FALSE(sent.json()["result"]["audio"].contains("thumbnail"));
  auto t = control("GET", "/chats/25/transcript");
  EXPECT_EQ(t[1]["media"]["title"], "Iron Sky");
  EXPECT_EQ(t[1]["media"]["thumbnail"]["width"], 300);
  EXPECT_FALSE(t[2]["media"].contains("thumbnail"));
}
