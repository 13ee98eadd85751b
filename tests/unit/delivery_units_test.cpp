// Delivery's pure parts: image headers and Telegram's photo and thumbnail
// limits, Telegram's refusals sorted, the send parameters of a Suno track,
// and the kie-emulator's images (their headers say what they are).
#include <gtest/gtest.h>

#include "delivery.hpp"
#include "kie_answers.hpp"
#include "kiebot/base/image_size.hpp"
#include "kiebot/telegram/telegram.hpp"
#include "media.hpp"

using namespace kiebot;
using generator::Refusal;

TEST(ImageSize, ReadsPngJpegGifAndWebpHeaders) {
  auto png = image_size(kie::png_bytes(5000, 12000, 100));
  ASSERT_TRUE(png);
  EXPECT_EQ(png->width, 12000u);
  EXPECT_EQ(png->height, 100u);
  EXPECT_EQ(png->format, "png");
  auto jpeg = image_size(kie::jpeg_bytes(300, 200));
  ASSERT_TRUE(jpeg);
  EXPECT_EQ(jpeg->width, 300u);
  EXPECT_EQ(jpeg->height, 200u);
  EXPECT_EQ(jpeg->format, "jpeg");
  // An APP0 segment and fill bytes before the frame header are skipped.
  std::string app0("\xff\xd8\xff\xe0\x00\x04\xaa\xbb\xff\xff\xc2\x00\x0b\x08\x01\x00\x02\x00\x01\x01\x11\x00", 22);
  auto progressive = image_size(app0);
  ASSERT_TRUE(progressive);
  EXPECT_EQ(progressive->width, 512u);
  EXPECT_EQ(progressive->height, 256u);
  auto gif = image_size(std::string("GIF89a\x10\x00\x20\x00", 10));
  ASSERT_TRUE(gif);
  EXPECT_EQ(gif->width, 16u);
  EXPECT_EQ(gif->height, 32u);
  std::string vp8x = std::string("RIFF\0\0\0\0WEBPVP8X", 16) + std::string(8, '\0') + std::string("\x7f\x00\x00\x3f\x00\x00", 6);
  auto webp = image_size(vp8x);
  ASSERT_TRUE(webp);
  EXPECT_EQ(webp->width, 128u);
  EXPECT_EQ(webp->height, 64u);
  // Truncated, unknown or zero-sized: nothing.
  EXPECT_FALSE(image_size(kie::png_bytes(5000).substr(0, 20)));
  EXPECT_FALSE(image_size(kie::jpeg_bytes(300, 200).substr(0, 75)));
  EXPECT_FALSE(image_size("plain text"));
  EXPECT_FALSE(image_size(std::string("GIF89a\x00\x00\x20\x00", 10)));
}

TEST(ImageSize, TelegramsPhotoAndThumbnailLimits) {
  EXPECT_TRUE(photo_dimensions_ok({5000, 5000, "png"}));
  EXPECT_FALSE(photo_dimensions_ok({5000, 5001, "png"}));  // width + height > 10000
  EXPECT_TRUE(photo_dimensions_ok({2000, 100, "png"}));    // a ratio of 20
  EXPECT_FALSE(photo_dimensions_ok({2001, 100, "png"}));
  EXPECT_FALSE(photo_dimensions_ok({100, 2001, "png"}));
  EXPECT_TRUE(thumbnail_ok({320, 320, "jpeg"}, 199'999));
  EXPECT_FALSE(thumbnail_ok({320, 320, "jpeg"}, 200'000));
  EXPECT_FALSE(thumbnail_ok({321, 100, "jpeg"}, 1000));
  EXPECT_FALSE(thumbnail_ok({100, 100, "png"}, 1000));
}

namespace {

telegram::Result answer(int status, std::string description, std::int64_t retry_after = 0) {
  telegram::Result r;
  r.status = status;
  r.ok = status == 200;
  r.description = std::move(description);
  r.retry_after_s = retry_after;
  return r;
}

}  // namespace

TEST(Delivery, SortsTelegramsRefusals) {
  using generator::refusal_of;
  EXPECT_EQ(refusal_of(answer(200, ""), "sendPhoto"), Refusal::none);
  EXPECT_EQ(refusal_of(answer(403, "Forbidden: bot was blocked by the user"), "sendPhoto"), Refusal::chat_unavailable);
  EXPECT_EQ(refusal_of(answer(403, "Forbidden: user is deactivated"), "sendMessage"), Refusal::chat_unavailable);
  EXPECT_EQ(refusal_of(answer(400, "Bad Request: chat not found"), "sendAudio"), Refusal::chat_unavailable);
  EXPECT_EQ(refusal_of(answer(429, "Too Many Requests: retry after 60", 60), "sendVideo"), Refusal::flood);
  EXPECT_EQ(refusal_of(answer(400, "Bad Request: PHOTO_INVALID_DIMENSIONS"), "sendPhoto"), Refusal::photo_unfit);
  EXPECT_EQ(refusal_of(answer(400, "Bad Request: file is too big"), "sendPhoto"), Refusal::photo_unfit);
  EXPECT_EQ(refusal_of(answer(400, "Bad Request: file is too big"), "sendDocument"), Refusal::other);
  EXPECT_EQ(refusal_of(answer(400, "Bad Request: failed to get HTTP URL content"), "sendPhoto"), Refusal::other);
  EXPECT_EQ(refusal_of(answer(0, "connection refused"), "sendPhoto"), Refusal::other);
  auto later = generator::ending(Refusal::flood, answer(429, "", 75), 1);
  EXPECT_EQ(later.outcome, "later");
  EXPECT_EQ(later.retry_after_s, 75);
  EXPECT_EQ(later.next, 1u);
  EXPECT_EQ(generator::ending(Refusal::chat_unavailable, answer(403, ""), 0).outcome, "chat_unavailable");
}

TEST(Delivery, ATrackIsSentWithItsTitleAndDuration) {
  generator::Job job;
  job.id = "j1";
  job.model = "suno/V4";
  job.chat_id = ChatId{42};
  job.caption = "Night city";
  generator::ResultInfo info{"Iron\u202e Sky", "https://cdn/cover.jpeg", 198};
  auto first = generator::item_params(job, "audio", 0, &info);
  EXPECT_EQ(first["title"], "Iron Sky");  // the bidi override is not shown
  EXPECT_EQ(first["performer"], "Suno");
  EXPECT_EQ(first["duration"], 198);
  EXPECT_EQ(first["caption"], "Night city");
  auto second = generator::item_params(job, "audio", 1, &info);
  EXPECT_FALSE(second.contains("caption"));
  EXPECT_FALSE(generator::item_params(job, "photo", 0, &info).contains("title"));
  auto saved = generator::info_from_json(generator::info_to_json({info}));
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].cover_url, "https://cdn/cover.jpeg");
  EXPECT_TRUE(generator::info_from_json(nlohmann::json::parse("[1]")).empty());
}

TEST(SunoRecord, ReadsEachTracksTitleCoverAndDuration) {
  auto body = R"({"code":200,"msg":"success","data":{"taskId":"t","status":"SUCCESS","response":{"sunoData":[
    {"audioUrl":"https://cdn/1.mp3","imageUrl":"https://cdn/1.jpeg","title":"Iron Sky","duration":198.44},
    {"audioUrl":"","title":"skipped"},
    {"audioUrl":"https://cdn/2.mp3","title":7,"duration":"long"}]}}})";
  auto t = generator::parse_suno_record(200, body);
  ASSERT_EQ(t.kind, generator::TaskState::Kind::success);
  ASSERT_EQ(t.result_urls.size(), 2u);
  ASSERT_EQ(t.result_info.size(), 2u);
  EXPECT_EQ(t.result_info[0].title, "Iron Sky");
  EXPECT_EQ(t.result_info[0].cover_url, "https://cdn/1.jpeg");
  EXPECT_EQ(t.result_info[0].duration_s, 198);
  EXPECT_EQ(t.result_info[1].title, "");
  EXPECT_EQ(t.result_info[1].duration_s, 0);
}
