// Pure parts of the emulators: entity parsing, multipart, catalog, media bytes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "catalog.hpp"
#include "markup.hpp"
#include "media.hpp"
#include "params.hpp"

using namespace kiebot;

TEST(TgMarkup, Html) {
  EXPECT_EQ(tg::parse_text("<b>bold</b> &lt;x&gt; <a href=\"https://t.me\">link</a>", "HTML").text, "bold <x> link");
  EXPECT_TRUE(tg::parse_text("<b>x</i>", "HTML").error);
  EXPECT_TRUE(tg::parse_text("<script>x</script>", "HTML").error);
  EXPECT_TRUE(tg::parse_text("<b>x", "HTML").error);
  EXPECT_TRUE(tg::parse_text("<a>x</a>", "HTML").error);
  EXPECT_FALSE(tg::parse_text("AT&T", "HTML").error);
}

TEST(TgMarkup, MarkdownV2) {
  EXPECT_EQ(tg::parse_text("*bold* _it_ __u__ ~s~ ||sp|| `c.d` [t](https://x.y/a)", "MarkdownV2").text,
            "bold it u s sp c.d t");
  EXPECT_FALSE(tg::parse_text("1\\.5 \\- ok\\!", "MarkdownV2").error);
  for (const char* bad : {"1.5", "a-b", "hi!", "*open", "_open", "[t]", "(x)", "a|b"}) {
    EXPECT_TRUE(tg::parse_text(bad, "MarkdownV2").error) << bad;
  }
  EXPECT_TRUE(tg::parse_text("x", "Fancy").error);
  EXPECT_EQ(tg::parse_text("*b* [t](u)", "Markdown").text, "b t");
  EXPECT_TRUE(tg::parse_text("*b", "Markdown").error);
}

TEST(TgMarkup, Utf16Length) {
  EXPECT_EQ(tg::utf16_length("abc"), 3u);
  EXPECT_EQ(tg::utf16_length("привет"), 6u);
  EXPECT_EQ(tg::utf16_length("😀"), 2u);  // outside the BMP: a surrogate pair
}

TEST(TgParams, Multipart) {
  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n"
      "\x89PNG\r\n--not-a-boundary\r\n--XyZ--\r\n";
  auto p = tg::parse_multipart(body, "XyZ");
  EXPECT_EQ(p.get("chat_id"), "42");
  ASSERT_TRUE(p.files.count("photo"));
  EXPECT_EQ(p.files["photo"].filename, "p.png");
  EXPECT_EQ(p.files["photo"].content_type, "image/png");
  EXPECT_EQ(p.files["photo"].bytes, "\x89PNG\r\n--not-a-boundary");
  EXPECT_THROW(tg::parse_multipart("garbage", "XyZ"), std::invalid_argument);
}

TEST(TgParams, JsonAndForm) {
  http::Request json_request;
  json_request.headers = {{"Content-Type", "application/json"}};
  json_request.body = R"({"chat_id":42,"text":"hi","reply_markup":{"inline_keyboard":[]},"x":null})";
  auto p = tg::parse_params(json_request);
  EXPECT_EQ(p.get("chat_id"), "42");
  EXPECT_EQ(p.get("text"), "hi");
  EXPECT_EQ(p.get("reply_markup"), R"({"inline_keyboard":[]})");
  EXPECT_FALSE(p.has("x"));
  http::Request form;
  form.target = "/bot1:a/sendMessage?chat_id=7";
  form.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  form.body = "text=a+b%21";
  auto f = tg::parse_params(form);
  EXPECT_EQ(f.get("chat_id"), "7");
  EXPECT_EQ(f.get("text"), "a b!");
}

TEST(KieCatalog, ValidatesInputs) {
  const auto* model = kie::find_model("kling-2.6/text-to-video");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->output, "video");
  auto ok = nlohmann::json{{"prompt", "waves"}, {"sound", true}, {"aspect_ratio", "16:9"}, {"duration", "10"}};
  EXPECT_FALSE(kie::validate_input(*model, ok));
  auto bad = ok;
  bad["duration"] = "7";
  EXPECT_TRUE(kie::validate_input(*model, bad));
  bad = ok;
  bad.erase("sound");
  EXPECT_TRUE(kie::validate_input(*model, bad));
  EXPECT_EQ(kie::find_model("nope"), nullptr);
  EXPECT_GE(kie::catalog().size(), 10u);
}

TEST(KieMedia, WellFormedFilesOfTheRequestedSize) {
  auto png = kie::png_bytes(5000);
  EXPECT_EQ(png.size(), 5000u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  auto mp4 = kie::mp4_bytes(3000);
  EXPECT_EQ(mp4.size(), 3000u);
  EXPECT_EQ(mp4.substr(4, 4), "ftyp");
  EXPECT_NE(mp4.find("moov"), std::string::npos);
  auto mp3 = kie::mp3_bytes(4170);
  EXPECT_EQ(mp3.size(), 4170u);
  EXPECT_EQ(static_cast<unsigned char>(mp3[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(mp3[417]), 0xFF);  // every frame starts with a sync word
}
