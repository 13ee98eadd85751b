// HTTP message helpers: headers, query strings, URLs, JSON bodies.
#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>

#include "kiebot/base/json.hpp"
#include "kiebot/http/http.hpp"

namespace kiebot::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<std::string> Request::query(std::string_view name) const {
  auto q = target.find('?');
  if (q == std::string::npos) return std::nullopt;
  auto all = parse_query(std::string_view(target).substr(q + 1));
  auto it = all.find(name);
  if (it == all.end()) return std::nullopt;
  return it->second;
}

nlohmann::json Request::json() const {
  auto parsed = parse_untrusted(body);
  if (parsed.is_discarded()) throw BadRequest{400, "invalid_json", "request body is not valid JSON"};
  return parsed;
}

nlohmann::json Response::json() const {
  return nlohmann::json::parse(body);
}

Response Response::json(int status, const nlohmann::json& body) {
  return Response{status, {{"Content-Type", "application/json"}}, body.dump()};
}

Response Response::text(int status, std::string body, std::string content_type) {
  return Response{status, {{"Content-Type", std::move(content_type)}}, std::move(body)};
}

Response Response::error(int status, std::string_view code, std::string_view message) {
  nlohmann::json body = {{"error", code}, {"message", message}};
  return json(status, body);
}

namespace {

// A host is a DNS name or an IPv4 literal ([A-Za-z0-9.-], with `_` as some
// internal names use it), or an IPv6 literal in brackets (hex, ':', '.').
bool valid_host(std::string_view host, bool bracketed) {
  if (host.empty() || host.size() > 253) return false;
  for (unsigned char c : host) {
    bool ok = bracketed ? (std::isxdigit(c) != 0 || c == ':' || c == '.')
                        : (std::isalnum(c) != 0 || c == '.' || c == '-' || c == '_');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<Url> Url::parse(std::string_view text) {
  // Control characters (CR/LF would inject header lines), spaces and DEL are
  // never part of a URL we send.
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) return std::nullopt;
  }
  if (auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);  // never sent
  Url url;
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  url.scheme = std::string(text.substr(0, scheme_end));
  for (auto& c : url.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (url.scheme != "http" && url.scheme != "https") return std::nullopt;
  auto rest = text.substr(scheme_end + 3);
  auto path_start = rest.find_first_of("/?");
  auto authority = rest.substr(0, path_start);
  if (path_start != std::string_view::npos) {
    url.target = std::string(rest.substr(path_start));
    if (url.target.front() == '?') url.target = "/" + url.target;
  }
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no userinfo
  url.port = url.tls() ? 443 : 80;
  std::string_view host = authority;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return std::nullopt;
    if (!after.empty()) port_text = after.substr(1);
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    const char* end = port_text.data() + port_text.size();
    auto [p, ec] = std::from_chars(port_text.data(), end, port);
    if (ec != std::errc{} || p != end || port == 0 || port > 65535) return std::nullopt;
    url.port = static_cast<std::uint16_t>(port);
  }
  bool bracketed = !authority.empty() && authority.front() == '[';
  if (!valid_host(host, bracketed)) return std::nullopt;
  url.host = std::string(host);
  for (auto& c : url.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return url;
}

std::string percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_as_space && c == '+') ? ' ' : c;
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::map<std::string, std::string, std::less<>> parse_query(std::string_view query) {
  std::map<std::string, std::string, std::less<>> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1), true);
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

}  // namespace kiebot::http
