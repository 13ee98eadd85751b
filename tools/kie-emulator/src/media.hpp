// Small but well-formed media files of a chosen size, for result URLs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiebot::kie {

// A 1x1 PNG padded with an ancillary chunk to `size` bytes (at least ~70).
std::string png_bytes(std::size_t size);
// An ISO BMFF file (ftyp, moov with mvhd, free padding) of `size` bytes.
std::string mp4_bytes(std::size_t size);
// MPEG-1 Layer III frames of silence (128 kbit/s, 44.1 kHz), about `size` bytes.
std::string mp3_bytes(std::size_t size);

// "image" -> png, "video" -> mp4, "audio" -> mp3.
std::string_view extension_for(std::string_view output);
std::string_view content_type_for(std::string_view extension);
std::string media_bytes(std::string_view extension, std::size_t size);

// The same file as media_bytes, described so that it can be produced as it
// is sent: `head`, then `unit` repeated (the last one cut) to `length` bytes.
// For mp4 and mp3, whose padding is regular; nullopt for png (served whole).
struct MediaPattern {
  std::string head;
  std::string unit;
  std::uint64_t length = 0;
};
std::optional<MediaPattern> media_pattern(std::string_view extension, std::size_t size);

}  // namespace kiebot::kie
