// Address classification and origin allowlist for outbound fetches (see fetch_policy.hpp).
#include "kiebot/http/fetch_policy.hpp"

#include <cstdint>
#include <stdexcept>

namespace kiebot::http {

namespace {

struct Range4 {
  std::uint32_t network;
  int bits;
  const char* reason;
};

constexpr std::uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// RFC 6890 and the IANA special-purpose registry: everything that is not a
// public unicast destination.
constexpr Range4 kSpecial4[] = {
    {ip4(0, 0, 0, 0), 8, "unspecified"},  // "this network"
    {ip4(10, 0, 0, 0), 8, "private"},        {ip4(100, 64, 0, 0), 10, "cgnat"},    {ip4(127, 0, 0, 0), 8, "loopback"},
    {ip4(169, 254, 0, 0), 16, "link_local"},                                       // cloud metadata 169.254.169.254 too
    {ip4(172, 16, 0, 0), 12, "private"},     {ip4(192, 0, 0, 0), 24, "reserved"},  // IETF protocol assignments
    {ip4(192, 0, 2, 0), 24, "reserved"},                                           // TEST-NET-1
    {ip4(192, 88, 99, 0), 24, "reserved"},                                         // 6to4 relay anycast
    {ip4(192, 168, 0, 0), 16, "private"},    {ip4(198, 18, 0, 0), 15, "reserved"},  // benchmarking
    {ip4(198, 51, 100, 0), 24, "reserved"},                                         // TEST-NET-2
    {ip4(203, 0, 113, 0), 24, "reserved"},                                          // TEST-NET-3
    {ip4(224, 0, 0, 0), 4, "multicast"},     {ip4(240, 0, 0, 0), 4, "reserved"},    // and 255.255.255.255
};

std::string refusal4(std::uint32_t a) {
  for (const auto& r : kSpecial4) {
    std::uint32_t mask = r.bits == 0 ? 0 : ~std::uint32_t{0} << (32 - r.bits);
    if ((a & mask) == r.network) return r.reason;
  }
  return "";
}

std::uint32_t v4_at(const boost::asio::ip::address_v6::bytes_type& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}

bool all_zero(const boost::asio::ip::address_v6::bytes_type& b, std::size_t from, std::size_t to) {
  for (auto i = from; i < to; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

std::string refusal6(const boost::asio::ip::address_v6& a) {
  auto b = a.to_bytes();
  if (all_zero(b, 0, 16)) return "unspecified";
  if (all_zero(b, 0, 15) && b[15] == 1) return "loopback";
  // ::ffff:a.b.c.d (mapped): the kernel connects to the IPv4 address.
  if (all_zero(b, 0, 10) && b[10] == 0xff && b[11] == 0xff) return refusal4(v4_at(b, 12));
  if (all_zero(b, 0, 12)) return "reserved";  // IPv4-compatible (deprecated)
  // 64:ff9b::/96, NAT64: a gateway connects to the embedded IPv4 address.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && all_zero(b, 4, 12)) {
    return refusal4(v4_at(b, 12));
  }
  // 64:ff9b:1::/48, local-use NAT64: translates to whatever the site chose.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 && b[5] == 0x01) return "private";
  // 2002::/16, 6to4: relayed to the embedded IPv4 address.
  if (b[0] == 0x20 && b[1] == 0x02) {
    auto inner = refusal4(v4_at(b, 2));
    if (!inner.empty()) return inner;
  }
  if ((b[0] & 0xfe) == 0xfc) return "unique_local";                // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link_local";  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "private";     // fec0::/10, site-local (deprecated)
  if (b[0] == 0xff) return "multicast";
  // 2001::/23 holds Teredo (2001::/32, tunnels to an obfuscated IPv4),
  // documentation (2001:db8::/32) and other IETF assignments.
  if (b[0] == 0x20 && b[1] == 0x01 && (b[2] & 0xfe) == 0x00) return "reserved";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return "reserved";
  // Only 2000::/3 is allocated as global unicast (100::/64 discard and the rest are not).
  if ((b[0] & 0xe0) != 0x20) return "reserved";
  return "";
}

}  // namespace

std::string address_refusal(const boost::asio::ip::address& address) {
  if (address.is_v4()) return refusal4(address.to_v4().to_uint());
  return refusal6(address.to_v6());
}

std::string origin_of(const Url& url) {
  return url.scheme + "://" + url.host + ":" + std::to_string(url.port);
}

std::string origin_of(std::string_view url) {
  auto parsed = Url::parse(url);
  return parsed ? origin_of(*parsed) : std::string();
}

std::string resolve_reference(const Url& base, std::string_view location) {
  std::string absolute;
  if (location.find("://") != std::string_view::npos && location.find("://") < location.find_first_of("/?")) {
    absolute = std::string(location);
  } else if (location.starts_with("//")) {
    absolute = base.scheme + ":" + std::string(location);
  } else {
    bool default_port = base.port == (base.tls() ? 443 : 80);
    bool v6 = base.host.find(':') != std::string::npos;
    auto authority = (v6 ? "[" + base.host + "]" : base.host) + (default_port ? "" : ":" + std::to_string(base.port));
    std::string path;
    if (location.starts_with("/")) {
      path = std::string(location);
    } else {
      auto dir = base.target.substr(0, base.target.find('?'));
      dir = dir.substr(0, dir.rfind('/') + 1);
      path = (dir.empty() ? "/" : dir) + std::string(location);
    }
    absolute = base.scheme + "://" + authority + path;
  }
  return Url::parse(absolute) ? absolute : std::string();
}

void FetchPolicy::allow_origin(std::string_view url) {
  auto origin = origin_of(url);
  if (origin.empty()) throw std::invalid_argument("not an http(s) origin: " + std::string(url));
  origins_.insert(std::move(origin));
}

void FetchPolicy::allow_origins(std::string_view list) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) allow_origin(item);
  }
}

bool FetchPolicy::allowed_origin(const Url& url) const {
  return origins_.count(origin_of(url)) > 0;
}

std::string FetchPolicy::refusal(const Url& url, const boost::asio::ip::address& address) const {
  if (allowed_origin(url)) return "";
  return address_refusal(address);
}

FetchPolicy configured_fetch_policy(std::initializer_list<ConfiguredOrigin> bases, std::string_view allow_list) {
  FetchPolicy policy;
  std::string_view variable;
  try {
    for (const auto& base : bases) {
      variable = base.variable;
      policy.allow_origin(base.url);
    }
    variable = "FETCH_ALLOW_ORIGINS";
    policy.allow_origins(allow_list);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(variable) + ": " + e.what());
  }
  return policy;
}

}  // namespace kiebot::http
