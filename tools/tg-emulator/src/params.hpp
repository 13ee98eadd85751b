// Bot API request parameters from a query string, a form, JSON or multipart.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "kiebot/common/http.hpp"

namespace kiebot::tg {

struct UploadedFile {
  std::string filename;
  std::string content_type;
  std::string bytes;
};

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

}  // namespace kiebot::tg
