// Bot API parameter parsing: GET query, x-www-form-urlencoded, JSON, multipart.
#include "params.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <vector>

namespace kiebot::tg {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `name="value"` from a header such as Content-Disposition.
std::optional<std::string> header_param(std::string_view header, std::string_view name) {
  auto lowered = lower(header);
  std::string key = std::string(name) + "=";
  std::size_t pos = 0;
  while ((pos = lowered.find(key, pos)) != std::string::npos) {
    if (pos == 0 || lowered[pos - 1] == ';' || lowered[pos - 1] == ' ') break;
    pos += key.size();
  }
  if (pos == std::string::npos) return std::nullopt;
  pos += key.size();
  if (pos < header.size() && header[pos] == '"') {
    auto end = header.find('"', pos + 1);
    if (end == std::string_view::npos) return std::nullopt;
    return std::string(header.substr(pos + 1, end - pos - 1));
  }
  auto end = header.find(';', pos);
  return std::string(header.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
}

void add_all(Params& p, const std::map<std::string, std::string, std::less<>>& values) {
  for (const auto& [k, v] : values) p.values.emplace(k, v);
}

struct PartHead {
  std::optional<std::string> name;
  std::optional<std::string> filename;
  std::string content_type = "application/octet-stream";
};

PartHead parse_part_head(std::string_view headers) {
  PartHead out;
  std::size_t line_start = 0;
  while (line_start <= headers.size()) {
    auto line_end = headers.find("\r\n", line_start);
    auto line = headers.substr(line_start, line_end == std::string_view::npos ? std::string_view::npos : line_end - line_start);
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      auto key = lower(line.substr(0, colon));
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (key == "content-disposition") {
        out.name = header_param(value, "name");
        out.filename = header_param(value, "filename");
      } else if (key == "content-type") {
        out.content_type = std::string(value);
      }
    }
    if (line_end == std::string_view::npos) break;
    line_start = line_end + 2;
  }
  return out;
}

std::invalid_argument bad_multipart() {
  return std::invalid_argument("Bad Request: can't parse multipart/form-data");
}

// A streamed multipart body's parser, free of I/O: fed the body as it
// arrives, it keeps only what it has not yet understood.
class MultipartStream {
 public:
  MultipartStream(const std::string& boundary, Params start)
      : delimiter_("\r\n--" + boundary), out_(std::move(start)) {}

  void append(const char* data, std::size_t size) { buffer_.append(data, size); }

  // Reads what the bytes so far allow; true once the closing delimiter came.
  // Throws std::invalid_argument with Telegram's wording.
  bool advance() {
    bool progressed = true;
    while (progressed && at_ != At::done) progressed = step();
    return at_ == At::done;
  }

  Params params() && { return std::move(out_); }

 private:
  enum class At { preamble, after_delimiter, headers, content, done };

  // One step of the parse; false when it needs more bytes (or is done).
  bool step() {
    switch (at_) {
      case At::preamble:
      case At::content:
        return to_delimiter();
      case At::after_delimiter:
        return after_delimiter();
      case At::headers:
        return part_headers();
      case At::done:
        break;
    }
    return false;
  }

  // Up to the next delimiter: a part's content, or the preamble (skipped).
  bool to_delimiter() {
    auto pos = buffer_.find(delimiter_);
    if (pos == std::string::npos) {
      if (buffer_.size() > delimiter_.size()) {
        auto keep = delimiter_.size();
        if (at_ == At::content) take(std::string_view(buffer_).substr(0, buffer_.size() - keep));
        buffer_.erase(0, buffer_.size() - keep);
      }
      return false;
    }
    if (at_ == At::content) {
      take(std::string_view(buffer_).substr(0, pos));
      finish_part();
    }
    buffer_.erase(0, pos + delimiter_.size());
    at_ = At::after_delimiter;
    return true;
  }

  // "--" closes the body, CRLF starts a part.
  bool after_delimiter() {
    if (buffer_.size() < 2) return false;
    if (buffer_.starts_with("--")) {
      at_ = At::done;
      return false;
    }
    if (!buffer_.starts_with("\r\n")) throw bad_multipart();
    buffer_.erase(0, 2);
    at_ = At::headers;
    return true;
  }

  bool part_headers() {
    auto end = buffer_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (buffer_.size() > 16 * 1024) throw bad_multipart();
      return false;
    }
    part_ = parse_part_head(std::string_view(buffer_).substr(0, end));
    buffer_.erase(0, end + 4);
    at_ = At::content;
    return true;
  }

  void take(std::string_view bytes) {
    if (part_.filename) {
      auto room = kKeptBytes - std::min(kKeptBytes, file_.bytes.size());
      file_.bytes.append(bytes.substr(0, room));
      file_.size += bytes.size();
    } else if (value_.size() + bytes.size() <= (1u << 20)) {
      value_.append(bytes);
    } else {
      throw std::invalid_argument("Bad Request: a parameter is too long");
    }
  }

  void finish_part() {
    if (part_.name && part_.filename) {
      file_.filename = *part_.filename;
      file_.content_type = part_.content_type;
      out_.files[*part_.name] = std::move(file_);
    } else if (part_.name) {
      out_.values[*part_.name] = std::move(value_);
    }
    file_ = UploadedFile{};
    value_.clear();
  }

  const std::string delimiter_;
  At at_ = At::preamble;
  std::string buffer_ = "\r\n";  // the first delimiter has no CRLF before it
  PartHead part_;
  UploadedFile file_;
  std::string value_;
  Params out_;
};

}  // namespace

bool streams_body(const http::Request& head) {
  auto type = lower(head.header("content-type").value_or(""));
  auto length = head.header("content-length");
  return type.starts_with("multipart/form-data") && length && length->size() > 6;  // from 1 MB
}

net::awaitable<Params> read_streamed_params(http::Request request) {
  Params out;
  if (auto q = request.target.find('?'); q != std::string::npos) {
    add_all(out, http::parse_query(std::string_view(request.target).substr(q + 1)));
  }
  auto boundary = header_param(request.header("content-type").value_or(""), "boundary");
  if (!boundary || !request.body_stream) throw bad_multipart();
  MultipartStream parts(*boundary, std::move(out));
  std::vector<char> chunk(64 * 1024);
  bool eof = false;
  while (!parts.advance()) {
    if (eof) throw bad_multipart();
    auto n = co_await request.body_stream->read(chunk.data(), chunk.size());
    if (n == 0) eof = true;
    parts.append(chunk.data(), n);
  }
  // The closing delimiter's epilogue is read to the end, so the connection stays usable.
  while (true) {
    auto n = co_await request.body_stream->read(chunk.data(), chunk.size());
    if (n == 0) break;
  }
  co_return std::move(parts).params();
}

std::optional<std::string> Params::get(std::string_view name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

Params parse_multipart(std::string_view body, std::string_view boundary) {
  Params out;
  std::string delimiter = "--" + std::string(boundary);
  auto pos = body.find(delimiter);
  if (pos == std::string_view::npos) throw std::invalid_argument("Bad Request: can't parse multipart/form-data");
  pos += delimiter.size();
  while (pos < body.size()) {
    if (body.substr(pos, 2) == "--") break;  // closing delimiter
    if (body.substr(pos, 2) == "\r\n") pos += 2;
    auto headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos) throw std::invalid_argument("Bad Request: can't parse multipart/form-data");
    auto headers = body.substr(pos, headers_end - pos);
    auto content_start = headers_end + 4;
    auto next = body.find("\r\n" + delimiter, content_start);
    if (next == std::string_view::npos) throw std::invalid_argument("Bad Request: can't parse multipart/form-data");
    auto content = body.substr(content_start, next - content_start);
    auto part = parse_part_head(headers);
    if (part.name) {
      if (part.filename) {
        out.files[*part.name] = UploadedFile{*part.filename, part.content_type, std::string(content), content.size()};
      } else {
        out.values[*part.name] = std::string(content);
      }
    }
    pos = next + 2 + delimiter.size();
  }
  return out;
}

Params parse_params(const http::Request& request) {
  Params out;
  if (auto q = request.target.find('?'); q != std::string::npos) {
    add_all(out, http::parse_query(std::string_view(request.target).substr(q + 1)));
  }
  if (request.body.empty()) return out;
  auto type = lower(request.header("content-type").value_or(""));
  if (type.starts_with("application/json")) {
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) throw std::invalid_argument("Bad Request: can't parse JSON object");
    for (const auto& [k, v] : body.items()) {
      if (v.is_null()) continue;
      out.values[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  } else if (type.starts_with("multipart/form-data")) {
    auto boundary = header_param(type, "boundary");
    // Boundaries are case-sensitive: take it from the original header.
    auto original = header_param(request.header("content-type").value_or(""), "boundary");
    if (!boundary || !original) throw std::invalid_argument("Bad Request: can't parse multipart/form-data");
    auto parts = parse_multipart(request.body, *original);
    for (auto& [k, v] : parts.values) out.values[k] = std::move(v);
    for (auto& [k, f] : parts.files) out.files[k] = std::move(f);
  } else {
    add_all(out, http::parse_query(request.body));
  }
  return out;
}

}  // namespace kiebot::tg
