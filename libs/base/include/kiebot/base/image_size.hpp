// An image's dimensions read from its first bytes (PNG, JPEG, GIF, WebP),
// and Telegram's limits for photos and audio thumbnails. Pure: the bytes
// are outside input (a generation result, a file a bot uploads).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kiebot {

struct ImageSize {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::string_view format;  // "png", "jpeg", "gif", "webp"
};

// The dimensions when `head` (the file's start; 64 KiB is enough for a
// JPEG's frame header in practice) holds them; nothing for another format,
// a truncated or malformed header, or a zero dimension.
std::optional<ImageSize> image_size(std::string_view head);

// Telegram's sendPhoto (core.telegram.org/bots/api#sendphoto): width +
// height at most 10000 and a width/height ratio of at most 20 either way.
bool photo_dimensions_ok(const ImageSize& size);
inline constexpr std::uint64_t kMaxPhotoBytes = 10u << 20;

// An audio or document thumbnail: JPEG, under 200 kB, at most 320 px wide and high.
bool thumbnail_ok(const ImageSize& size, std::uint64_t bytes);
inline constexpr std::uint64_t kMaxThumbnailBytes = 200'000;

}  // namespace kiebot
