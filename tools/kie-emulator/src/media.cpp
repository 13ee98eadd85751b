// Media files built byte by byte (PNG: RFC 2083; JPEG: ITU T.81 baseline; ISO BMFF: ISO/IEC 14496-12;
// MP3: ISO/IEC 11172-3 frame headers).
#include "media.hpp"

#include <array>
#include <cstdint>

namespace kiebot::kie {

namespace {

void put32(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v >> 24);
  out += static_cast<char>(v >> 16);
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

std::uint32_t crc32(std::string_view data) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void chunk(std::string& out, std::string_view type, std::string_view data) {
  put32(out, static_cast<std::uint32_t>(data.size()));
  std::string body(type);
  body += data;
  out += body;
  put32(out, crc32(body));
}

void box(std::string& out, std::string_view type, std::string_view payload) {
  put32(out, static_cast<std::uint32_t>(8 + payload.size()));
  out += type;
  out += payload;
}

}  // namespace

namespace {

// A zlib stream (RFC 1950) of stored deflate blocks: no compression needed.
std::string zlib_stored(std::string_view raw) {
  std::string out("\x78\x01", 2);
  std::uint32_t a = 1, b = 0;
  for (unsigned char c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  std::size_t at = 0;
  do {
    auto n = std::min<std::size_t>(raw.size() - at, 65535);
    bool last = at + n == raw.size();
    out += static_cast<char>(last ? 1 : 0);
    out += static_cast<char>(n & 0xff);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(~n & 0xff);
    out += static_cast<char>((~n >> 8) & 0xff);
    out.append(raw.substr(at, n));
    at += n;
  } while (at < raw.size());
  put32(out, (b << 16) | a);
  return out;
}

}  // namespace

std::string png_bytes(std::size_t size, std::uint32_t width, std::uint32_t height) {
  std::string out("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  put32(ihdr, width);
  put32(ihdr, height);
  std::string raw;
  if (width == 1 && height == 1) {
    ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, no interlace
    raw.assign("\x00\xff\x80\x00", 4);               // filter byte 0 and one orange pixel
  } else {
    ihdr += std::string("\x01\x00\x00\x00\x00", 5);  // 1-bit grayscale: large images stay small
    std::string row(1 + (width + 7) / 8, '\0');
    for (std::uint32_t y = 0; y < height; ++y) raw += row;
  }
  chunk(out, "IHDR", ihdr);
  std::string tail;
  chunk(tail, "IDAT", zlib_stored(raw));
  chunk(tail, "IEND", "");
  constexpr std::size_t kChunkOverhead = 12;
  std::size_t fixed = out.size() + tail.size() + kChunkOverhead + 8;
  std::string pad = "Comment";
  pad += '\0';
  if (size > fixed) pad += std::string(size - fixed, 'k');
  chunk(out, "tEXt", pad);
  return out + tail;
}

std::string jpeg_bytes(std::uint32_t width, std::uint32_t height) {
  auto segment = [](std::string& out, unsigned char marker, std::string_view payload) {
    out += '\xff';
    out += static_cast<char>(marker);
    out += static_cast<char>((payload.size() + 2) >> 8);
    out += static_cast<char>((payload.size() + 2) & 0xff);
    out += payload;
  };
  std::string out("\xff\xd8", 2);
  segment(out, 0xDB, std::string(1, '\0') + std::string(64, '\x01'));  // one table of ones
  std::string frame("\x08", 1);
  frame += static_cast<char>(height >> 8);
  frame += static_cast<char>(height & 0xff);
  frame += static_cast<char>(width >> 8);
  frame += static_cast<char>(width & 0xff);
  frame += std::string("\x01\x01\x11\x00", 4);  // one component, no subsampling, table 0
  segment(out, 0xC0, frame);
  // DC and AC tables of a single 1-bit code "0": DC difference 0, end of block.
  std::string table(17, '\0');
  table[0] = 1;  // one code of length 1
  segment(out, 0xC4, std::string(1, '\x00') + table);
  segment(out, 0xC4, std::string(1, '\x10') + table);
  segment(out, 0xDA, std::string("\x01\x01\x00\x00\x3f\x00", 6));
  // Every 8x8 block is "00" (mid grey); the last byte is padded with ones.
  std::uint64_t bits = 2ull * ((width + 7) / 8) * ((height + 7) / 8);
  out += std::string(bits / 8, '\0');
  if (bits % 8 != 0) out += static_cast<char>((1u << (8 - bits % 8)) - 1);
  out += std::string("\xff\xd9", 2);
  return out;
}

std::string mp4_bytes(std::size_t size) {
  std::string out;
  std::string ftyp("isom", 4);
  put32(ftyp, 0x200);
  ftyp += "isomiso2mp41";
  box(out, "ftyp", ftyp);
  std::string mvhd(4, '\0');  // version 0, flags 0
  put32(mvhd, 0);             // creation time
  put32(mvhd, 0);             // modification time
  put32(mvhd, 1000);          // timescale
  put32(mvhd, 1000);          // duration: one second
  put32(mvhd, 0x00010000);    // rate 1.0
  mvhd += std::string("\x01\x00", 2);  // volume 1.0
  mvhd += std::string(10, '\0');       // reserved
  const std::uint32_t matrix[9] = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
  for (auto m : matrix) put32(mvhd, m);
  mvhd += std::string(24, '\0');  // pre_defined
  put32(mvhd, 2);                 // next track id
  std::string moov;
  box(moov, "mvhd", mvhd);
  box(out, "moov", moov);
  std::size_t pad = size > out.size() + 8 ? size - out.size() - 8 : 0;
  box(out, "free", std::string(pad, '\0'));
  return out;
}

std::string mp3_bytes(std::size_t size) {
  // 0xFFFB9064: MPEG-1 Layer III, no CRC, 128 kbit/s, 44.1 kHz, no padding,
  // joint stereo: 417 bytes per frame (144 * 128000 / 44100).
  constexpr std::size_t kFrame = 417;
  std::string frame("\xff\xfb\x90\x64", 4);
  frame += std::string(kFrame - 4, '\0');
  std::string out;
  std::size_t frames = std::max<std::size_t>(1, (size + kFrame - 1) / kFrame);
  out.reserve(frames * kFrame);
  for (std::size_t i = 0; i < frames; ++i) out += frame;
  return out;
}

std::string_view extension_for(std::string_view output) {
  if (output == "video") return "mp4";
  if (output == "audio") return "mp3";
  return "png";
}

std::string_view content_type_for(std::string_view extension) {
  if (extension == "mp4") return "video/mp4";
  if (extension == "mp3") return "audio/mpeg";
  return "image/png";
}

std::string media_bytes(std::string_view extension, std::size_t size, std::uint32_t width, std::uint32_t height) {
  if (extension == "mp4") return mp4_bytes(size);
  if (extension == "mp3") return mp3_bytes(size);
  return png_bytes(size, width, height);
}

std::optional<MediaPattern> media_pattern(std::string_view extension, std::size_t size) {
  if (extension == "mp4") {
    auto minimal = mp4_bytes(0);  // ends with an empty 8-byte "free" box
    auto fixed = minimal.size();
    if (size < fixed) return std::nullopt;
    MediaPattern p{minimal.substr(0, fixed - 8), std::string(64 * 1024, '\0'), size};
    put32(p.head, static_cast<std::uint32_t>(size - fixed + 8));
    p.head += "free";
    return p;
  }
  if (extension == "mp3") {
    auto frame = mp3_bytes(1);
    std::size_t frames = std::max<std::size_t>(1, (size + frame.size() - 1) / frame.size());
    return MediaPattern{"", frame, static_cast<std::uint64_t>(frames) * frame.size()};
  }
  return std::nullopt;
}

}  // namespace kiebot::kie
