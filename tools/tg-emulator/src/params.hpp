// Bot API request parameters from a query string, a form, JSON or multipart.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "kiebot/http/http.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::tg {

struct UploadedFile {
  std::string filename;
  std::string content_type;
  std::string bytes;       // the file, or its first kKeptBytes when it was streamed
  std::uint64_t size = 0;  // the whole file's size
};

// Of a file received streamed, only this much is kept (the emulator checks
// sizes, not pixels): a 2000 MB upload costs no memory.
constexpr std::size_t kKeptBytes = 1 << 20;

// Every value is kept as Telegram reads it: strings as they are, JSON
// numbers, booleans, objects and arrays as their JSON text.
struct Params {
  std::map<std::string, std::string, std::less<>> values;
  std::map<std::string, UploadedFile, std::less<>> files;

  std::optional<std::string> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
};

// Throws std::invalid_argument with Telegram's wording when the body cannot be read.
Params parse_params(const http::Request& request);

// multipart/form-data body (RFC 7578) with the boundary from Content-Type.
Params parse_multipart(std::string_view body, std::string_view boundary);

// True for a request whose body the server should stream to the handler
// (a multipart upload larger than a few MB).
bool streams_body(const http::Request& head);
// A streamed multipart request's parameters (the server's body_stream), read
// as it arrives; files keep their first kKeptBytes and their size.
net::awaitable<Params> read_streamed_params(http::Request request);

}  // namespace kiebot::tg
