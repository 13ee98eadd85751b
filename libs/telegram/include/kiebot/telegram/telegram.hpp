// A Bot API client for sending: JSON calls and multipart uploads, waiting
// out 429 retry_after (the generator's delivery and the ingress dialog).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "kiebot/http/client.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot::telegram {

struct Result {
  bool ok = false;
  int status = 0;  // HTTP status; 0 when no answer came
  std::string description;
  nlohmann::json result;
  std::int64_t retry_after_s = 0;  // a 429's parameters.retry_after (1 s to an hour), else 0
};

// Multipart headers are built only from safe alphabets, whatever the input:
// a filename keeps [A-Za-z0-9._-] (others become '_', at most 64 bytes,
// "file" when nothing is left); a content type must be type/subtype of
// [A-Za-z0-9.+-] (parameters dropped), else application/octet-stream; a
// field name keeps [A-Za-z0-9_].
std::string safe_filename(std::string_view name);
std::string safe_content_type(std::string_view type);
std::string safe_field_name(std::string_view name);

class Client {
 public:
  Client(http::Client& client, std::string base, std::string token);
  // A JSON call; a 429 is waited out (retry_after, up to `patience` in all).
  // `method` must outlive the call (a literal, or a variable of the caller).
  net::awaitable<Result> call(std::string_view method, nlohmann::json params,
                              std::chrono::seconds patience = std::chrono::seconds(30));
  // Where getFile's `file_path` can be downloaded (the URL holds the token:
  // never hand it to anyone else).
  std::string file_url(std::string_view file_path) const;
  // A multipart/form-data call uploading `file` as field `field`, its
  // `size` bytes read from `file` while they are sent (a download relayed as
  // it arrives). Not repeated on a 429: the file cannot be read twice.
  net::awaitable<Result> upload_streamed(std::string_view method, nlohmann::json params, std::string field,
                                         std::string filename, std::string content_type, std::uint64_t size,
                                         http::BodySource* file);

 private:
  net::awaitable<Result> send(http::ClientRequest request, std::chrono::seconds patience);

  http::Client& client_;
  std::string base_;
  std::string token_;
};

}  // namespace kiebot::telegram
