// Small but well-formed media files of a chosen size, for result URLs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiebot::kie {

// A PNG of width x height (1x1: one RGB pixel; larger: 1-bit grey) padded
// with an ancillary chunk to `size` bytes (at least its own size).
std::string png_bytes(std::size_t size, std::uint32_t width = 1, std::uint32_t height = 1);
// A baseline greyscale JPEG of width x height, one uniform grey (a cover image).
std::string jpeg_bytes(std::uint32_t width, std::uint32_t height);
// An ISO BMFF file (ftyp, moov with mvhd, free padding) of `size` bytes.
std::string mp4_bytes(std::size_t size);
// MPEG-1 Layer III frames of silence (128 kbit/s, 44.1 kHz), about `size` bytes.
std::string mp3_bytes(std::size_t size);

// "image" -> png, "video" -> mp4, "audio" -> mp3.
std::string_view extension_for(std::string_view output);
std::string_view content_type_for(std::string_view extension);
std::string media_bytes(std::string_view extension, std::size_t size, std::uint32_t width = 1,
                        std::uint32_t height = 1);

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
