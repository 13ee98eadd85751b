// Redis replies, URLs and scripts: the parts of the client without I/O.
#include <openssl/evp.h>

#include <charconv>

#include "kiebot/redis/redis.hpp"

namespace kiebot::redis {

const std::string& Reply::as_string() const {
  if (type != Type::string && type != Type::status) {
    throw Error(Error::Kind::protocol, is_error() ? "redis error: " + str : "redis reply is not a string");
  }
  return str;
}

std::int64_t Reply::as_integer() const {
  if (type == Type::integer) return integer;
  if (type == Type::string) {
    std::int64_t value = 0;
    auto [p, ec] = std::from_chars(str.data(), str.data() + str.size(), value);
    if (ec == std::errc{} && p == str.data() + str.size()) return value;
  }
  throw Error(Error::Kind::protocol, is_error() ? "redis error: " + str : "redis reply is not an integer");
}

std::optional<Endpoint> parse_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  auto rest = url.substr(kScheme.size());
  Endpoint ep;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    auto userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      ep.password = std::string(userinfo);
    } else {
      ep.username = std::string(userinfo.substr(0, colon));
      ep.password = std::string(userinfo.substr(colon + 1));
    }
  }
  auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    auto db = rest.substr(slash + 1);
    if (!db.empty()) {
      auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), ep.db);
      if (ec != std::errc{} || p != db.data() + db.size() || ep.db < 0) return std::nullopt;
    }
  }
  auto colon = hostport.rfind(':');
  if (colon != std::string_view::npos) {
    auto port = hostport.substr(colon + 1);
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || p != port.data() + port.size() || value == 0 || value > 65535) return std::nullopt;
    ep.port = static_cast<std::uint16_t>(value);
    hostport = hostport.substr(0, colon);
  }
  if (hostport.empty()) return std::nullopt;
  ep.host = std::string(hostport);
  return ep;
}

Script::Script(std::string source) : source_(std::move(source)) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(source_.data(), source_.size(), digest, &length, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned i = 0; i < length; ++i) {
    sha1_ += kHex[digest[i] >> 4];
    sha1_ += kHex[digest[i] & 15];
  }
}

void throw_if_error(const Reply& reply, std::string_view what) {
  if (reply.is_error()) throw Error(Error::Kind::protocol, std::string(what) + ": " + reply.str);
}

bool transient_error_reply(std::string_view message) {
  static constexpr std::string_view kPassing[] = {"LOADING",  "BUSY",        "READONLY",   "MASTERDOWN",
                                                  "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS", "OOM"};
  // At the start, or after the "what: " a caller put before Redis's own text.
  for (auto word : kPassing) {
    for (auto at = message.find(word); at != std::string_view::npos; at = message.find(word, at + 1)) {
      bool starts = at == 0 || message[at - 1] == ' ';
      bool ends = at + word.size() == message.size() || message[at + word.size()] == ' ';
      if (starts && ends) return true;
    }
  }
  return false;
}

ErrorKind Error::error_kind() const noexcept {
  if (kind_ == Kind::invalid_url) return ErrorKind::permanent;
  if (kind_ != Kind::protocol) return ErrorKind::transient;
  // An error reply: Redis's own state passes; anything else (a script's
  // error, a reply of the wrong type) is ours.
  return transient_error_reply(what()) ? ErrorKind::transient : ErrorKind::bug;
}

}  // namespace kiebot::redis
