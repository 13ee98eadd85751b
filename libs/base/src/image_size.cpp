// Image headers (PNG: RFC 2083 IHDR; JPEG: ITU T.81 frame markers; GIF89a
// logical screen; WebP: RIFF with VP8, VP8L or VP8X), read without trusting
// a length or an offset.
#include "kiebot/base/image_size.hpp"

#include <algorithm>

namespace kiebot {

namespace {

std::uint32_t be16(std::string_view s, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) << 8) |
         static_cast<unsigned char>(s[at + 1]);
}

std::uint32_t be32(std::string_view s, std::size_t at) {
  return (be16(s, at) << 16) | be16(s, at + 2);
}

std::uint32_t le(std::string_view s, std::size_t at, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
  return v;
}

std::optional<ImageSize> sized(std::uint32_t w, std::uint32_t h, std::string_view format) {
  if (w == 0 || h == 0) return std::nullopt;
  return ImageSize{w, h, format};
}

std::optional<ImageSize> png(std::string_view s) {
  if (s.size() < 24 || s.substr(12, 4) != "IHDR") return std::nullopt;
  auto w = be32(s, 16), h = be32(s, 20);
  if (w > 0x7fffffffu || h > 0x7fffffffu) return std::nullopt;  // PNG's own limit
  return sized(w, h, "png");
}

bool is_frame_marker(unsigned char m) {
  // SOF0-SOF15 but DHT (C4), JPG (C8) and DAC (CC).
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

std::optional<ImageSize> jpeg(std::string_view s) {
  std::size_t at = 2;
  while (at + 1 < s.size()) {
    if (static_cast<unsigned char>(s[at]) != 0xFF) return std::nullopt;
    auto marker = static_cast<unsigned char>(s[at + 1]);
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    at += 2;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length
    if (marker == 0xD9 || marker == 0xDA || at + 2 > s.size()) return std::nullopt;  // EOI, SOS: no frame seen
    auto length = be16(s, at);
    if (length < 2) return std::nullopt;
    if (is_frame_marker(marker)) {
      if (length < 7 || at + 7 > s.size()) return std::nullopt;
      return sized(be16(s, at + 5), be16(s, at + 3), "jpeg");
    }
    at += length;
  }
  return std::nullopt;
}

std::optional<ImageSize> gif(std::string_view s) {
  if (s.size() < 10) return std::nullopt;
  return sized(le(s, 6, 2), le(s, 8, 2), "gif");
}

std::optional<ImageSize> webp(std::string_view s) {
  if (s.size() < 30) return std::nullopt;
  auto chunk = s.substr(12, 4);
  if (chunk == "VP8X") return sized(le(s, 24, 3) + 1, le(s, 27, 3) + 1, "webp");
  if (chunk == "VP8L") {
    if (static_cast<unsigned char>(s[20]) != 0x2f) return std::nullopt;
    auto bits = le(s, 21, 4);
    return sized((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1, "webp");
  }
  if (chunk == "VP8 ") {
    if (s.substr(23, 3) != "\x9d\x01\x2a") return std::nullopt;  // a key frame's start code
    return sized(le(s, 26, 2) & 0x3fff, le(s, 28, 2) & 0x3fff, "webp");
  }
  return std::nullopt;
}

}  // namespace

std::optional<ImageSize> image_size(std::string_view head) {
  if (head.starts_with("\x89PNG\r\n\x1a\n")) return png(head);
  if (head.starts_with("\xff\xd8")) return jpeg(head);
  if (head.starts_with("GIF87a") || head.starts_with("GIF89a")) return gif(head);
  if (head.size() >= 12 && head.starts_with("RIFF") && head.substr(8, 4) == "WEBP") return webp(head);
  return std::nullopt;
}

bool photo_dimensions_ok(const ImageSize& size) {
  auto w = static_cast<std::uint64_t>(size.width), h = static_cast<std::uint64_t>(size.height);
  if (w == 0 || h == 0 || w + h > 10'000) return false;
  return std::max(w, h) <= 20 * std::min(w, h);
}

bool thumbnail_ok(const ImageSize& size, std::uint64_t bytes) {
  return size.format == "jpeg" && bytes > 0 && bytes < kMaxThumbnailBytes && size.width <= 320 && size.height <= 320;
}

}  // namespace kiebot
