// Large results: link expiry, the kie-emulator's streamed media files.
#include <gtest/gtest.h>

#include "generator.hpp"
#include "media.hpp"

using namespace kiebot;

TEST(LinkExpiry, ReadsKieAndS3Expiries) {
  EXPECT_EQ(generator::link_expiry("https://tempfile.kie.ai/a.mp4?expires=1767225600"), 1767225600);
  EXPECT_EQ(generator::link_expiry("https://s3/a.mp4?X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600&X-Amz-Signature=x"),
            1767225600 + 3600);
  EXPECT_FALSE(generator::link_expiry("https://cdn/a.mp4"));
  EXPECT_FALSE(generator::link_expiry("https://cdn/a.mp4?expires=soon"));
  EXPECT_FALSE(generator::link_expiry("https://cdn/a.mp4?expires=-5"));
  EXPECT_FALSE(generator::link_expiry("https://s3/a.mp4?X-Amz-Date=garbage&X-Amz-Expires=3600"));
}

namespace {

std::string assemble(const kie::MediaPattern& p) {
  std::string out = p.head;
  while (out.size() < p.length) out += p.unit;
  out.resize(p.length);
  return out;
}

}  // namespace

TEST(MediaPattern, StreamsTheSameFileAsMediaBytes) {
  for (std::size_t size : {std::size_t{5000}, std::size_t{3} << 20}) {
    auto mp4 = kie::media_pattern("mp4", size);
    ASSERT_TRUE(mp4);
    EXPECT_EQ(mp4->length, size);
    EXPECT_EQ(assemble(*mp4), kie::media_bytes("mp4", size));
    auto mp3 = kie::media_pattern("mp3", size);
    ASSERT_TRUE(mp3);
    EXPECT_EQ(assemble(*mp3), kie::media_bytes("mp3", size));
  }
  EXPECT_FALSE(kie::media_pattern("png", 1 << 20));
}
