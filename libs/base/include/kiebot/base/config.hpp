// Typed configuration from environment variables (12-factor).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiebot {

// Reads variables lazily and remembers each one it was asked for, so that
// `--help` can list every variable a binary reads and a missing or malformed
// one is reported once, by name. Usage:
//   Config cfg("accounts", "Owns balances and holds.", argc, argv);
//   auto port = cfg.port("HTTP_PORT", 8083, "HTTP port; 0 = any free port");
//   if (auto code = cfg.finish()) return *code;
class Config {
 public:
  using Getenv = std::function<std::optional<std::string>(std::string_view)>;

  Config(std::string binary, std::string description, int argc, char** argv);
  Config(std::string binary, std::string description, std::vector<std::string> args, Getenv getenv);

  std::string str(std::string_view name, std::string_view fallback, std::string_view help);
  std::string required(std::string_view name, std::string_view help, bool secret = false);
  std::optional<std::string> optional(std::string_view name, std::string_view help, bool secret = false);
  std::int64_t integer(std::string_view name, std::int64_t fallback, std::string_view help, std::int64_t min,
                       std::int64_t max);
  std::uint16_t port(std::string_view name, std::uint16_t fallback, std::string_view help);
  bool flag(std::string_view name, bool fallback, std::string_view help);
  // Comma-separated items, e.g. KIE_EMULATOR_KEYS=a,b (see split_list).
  std::vector<std::string> list(std::string_view name, std::string_view fallback, std::string_view help);
  // Comma-separated positive integers, e.g. ADMIN_IDS=1,2,3; empty when unset.
  std::vector<std::int64_t> id_list(std::string_view name, std::string_view help);

  // Standard variables every service reads.
  std::string instance_id();
  std::string log_level();

  // Documents a family of variables (e.g. KAFKA_CFG_<NAME>) for --help.
  void describe(std::string_view pattern, std::string_view help);

  // Secrets read so far, for log redaction.
  const std::vector<std::string>& secrets() const { return secrets_; }
  const std::vector<std::string>& errors() const { return errors_; }
  bool help_requested() const { return help_; }

  // Prints help (exit code 0) or the first error (exit code 2) to stderr and
  // returns the exit code; returns nothing when the process should go on.
  std::optional<int> finish();

 private:
  struct Entry {
    std::string name;
    std::string fallback;
    std::string help;
    bool required = false;
  };
  std::optional<std::string> lookup(std::string_view name, std::string fallback, std::string_view help, bool required,
                                    bool secret);
  void fail(std::string message);

  std::string binary_;
  std::string description_;
  Getenv getenv_;
  bool help_ = false;
  std::vector<Entry> entries_;
  std::vector<std::string> errors_;
  std::vector<std::string> secrets_;
};

// "a, b,,c" -> {"a", "b", "c"}: items trimmed of spaces, empty ones dropped.
std::vector<std::string> split_list(std::string_view text);

// Every environment variable whose name starts with `prefix`.
std::map<std::string, std::string> environment_with_prefix(std::string_view prefix);

}  // namespace kiebot
