// Bot API parameter parsing: GET query, x-www-form-urlencoded, JSON, multipart.
#include "params.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

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

}  // namespace

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
    std::optional<std::string> name, filename;
    std::string content_type = "application/octet-stream";
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
          name = header_param(value, "name");
          filename = header_param(value, "filename");
        } else if (key == "content-type") {
          content_type = std::string(value);
        }
      }
      if (line_end == std::string_view::npos) break;
      line_start = line_end + 2;
    }
    if (name) {
      if (filename) {
        out.files[*name] = UploadedFile{*filename, content_type, std::string(content)};
      } else {
        out.values[*name] = std::string(content);
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
