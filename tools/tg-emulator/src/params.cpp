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

}  // namespace

bool streams_body(const http::Request& head) {
  auto type = lower(head.header("content-type").value_or(""));
  auto length = head.header("content-length");
  return type.starts_with("multipart/form-data") && length && length->size() > 6;  // from 1 MB
}

net::awaitable<Params> read_streamed_params(http::Request request) {
  auto bad = [] { return std::invalid_argument("Bad Request: can't parse multipart/form-data"); };
  Params out;
  if (auto q = request.target.find('?'); q != std::string::npos) {
    add_all(out, http::parse_query(std::string_view(request.target).substr(q + 1)));
  }
  auto boundary = header_param(request.header("content-type").value_or(""), "boundary");
  if (!boundary || !request.body_stream) throw bad();
  const std::string delimiter = "\r\n--" + *boundary;
  enum class At { preamble, after_delimiter, headers, content, done } at = At::preamble;
  std::string buffer = "\r\n";  // the first delimiter has no CRLF before it
  PartHead part;
  UploadedFile file;
  std::string value;
  auto take = [&](std::string_view bytes) {
    if (part.filename) {
      auto room = kKeptBytes - std::min(kKeptBytes, file.bytes.size());
      file.bytes.append(bytes.substr(0, room));
      file.size += bytes.size();
    } else if (value.size() + bytes.size() <= (1u << 20)) {
      value.append(bytes);
    } else {
      throw std::invalid_argument("Bad Request: a parameter is too long");
    }
  };
  std::vector<char> chunk(64 * 1024);
  bool eof = false;
  while (at != At::done) {
    bool progressed = true;
    while (progressed && at != At::done) {
      progressed = false;
      if (at == At::preamble || at == At::content) {
        auto pos = buffer.find(delimiter);
        if (pos != std::string::npos) {
          if (at == At::content) {
            take(std::string_view(buffer).substr(0, pos));
            if (part.name && part.filename) {
              file.filename = *part.filename;
              file.content_type = part.content_type;
              out.files[*part.name] = std::move(file);
            } else if (part.name) {
              out.values[*part.name] = std::move(value);
            }
            file = UploadedFile{};
            value.clear();
          }
          buffer.erase(0, pos + delimiter.size());
          at = At::after_delimiter;
          progressed = true;
        } else if (buffer.size() > delimiter.size()) {
          auto keep = delimiter.size();
          if (at == At::content) take(std::string_view(buffer).substr(0, buffer.size() - keep));
          buffer.erase(0, buffer.size() - keep);
        }
      } else if (at == At::after_delimiter && buffer.size() >= 2) {
        if (buffer.starts_with("--")) {
          at = At::done;
        } else if (buffer.starts_with("\r\n")) {
          buffer.erase(0, 2);
          at = At::headers;
          progressed = true;
        } else {
          throw bad();
        }
      } else if (at == At::headers) {
        auto end = buffer.find("\r\n\r\n");
        if (end == std::string::npos) {
          if (buffer.size() > 16 * 1024) throw bad();
        } else {
          part = parse_part_head(std::string_view(buffer).substr(0, end));
          buffer.erase(0, end + 4);
          at = At::content;
          progressed = true;
        }
      }
    }
    if (at == At::done) break;
    if (eof) throw bad();
    auto n = co_await request.body_stream->read(chunk.data(), chunk.size());
    if (n == 0) eof = true;
    buffer.append(chunk.data(), n);
  }
  // The closing delimiter's epilogue is read to the end, so the connection stays usable.
  while (true) {
    auto n = co_await request.body_stream->read(chunk.data(), chunk.size());
    if (n == 0) break;
  }
  co_return out;
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
