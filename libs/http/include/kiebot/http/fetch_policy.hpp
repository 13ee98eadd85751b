// Where outbound fetches of outside-named URLs may go (SSRF defence): public
// addresses only, except origins the operator configured. Pure; the HTTP
// client applies it to the address it actually connects to.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kiebot/http/http.hpp"

namespace kiebot::http {

// Why an address may not be fetched from ("loopback", "private",
// "link_local", "cgnat", "unspecified", "multicast", "reserved",
// "unique_local", ...), or "" for a public unicast address. An IPv4 address
// inside IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16)
// is judged as that IPv4 address.
std::string address_refusal(const boost::asio::ip::address& address);

// "scheme://host:port" with the scheme's default port filled in, host in
// lower case; "" when `url` is not an http(s) URL.
std::string origin_of(std::string_view url);
std::string origin_of(const Url& url);

// The absolute URL a redirect's Location names, relative to `base`
// (absolute, scheme-relative "//host/..", absolute-path or relative-path
// references); "" when it is not a valid http(s) URL.
std::string resolve_reference(const Url& base, std::string_view location);

class FetchPolicy {
 public:
  // Allows the origin of `url` (a base URL such as KIE_API_BASE; its path is
  // ignored). Throws std::invalid_argument naming it when it is not an
  // http(s) URL.
  void allow_origin(std::string_view url);
  // FETCH_ALLOW_ORIGINS: comma-separated scheme://host:port; blanks ignored.
  void allow_origins(std::string_view comma_separated);

  bool allowed_origin(const Url& url) const;
  // "" when `url` may be fetched from `address`, else why not.
  std::string refusal(const Url& url, const boost::asio::ip::address& address) const;
  const std::set<std::string>& origins() const { return origins_; }

  int max_redirects = 5;

 private:
  std::set<std::string> origins_;
};

// A service's policy from its configuration: the origins of the base URLs
// it talks to (variable name and value) and FETCH_ALLOW_ORIGINS. Throws
// std::invalid_argument "<VARIABLE>: <why>" for a value that is no origin.
struct ConfiguredOrigin {
  std::string_view variable;
  std::string_view url;
};
FetchPolicy configured_fetch_policy(std::initializer_list<ConfiguredOrigin> bases, std::string_view allow_list);

}  // namespace kiebot::http
