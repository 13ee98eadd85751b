// librdkafka configuration: KAFKA_CFG_* passthrough, secrets, common setup.
#include "kafka_config.hpp"

#include <nlohmann/json.hpp>

#include <cctype>

#include "kiebot/base/log.hpp"

namespace kiebot::kafka {

Properties properties_from_env(const std::map<std::string, std::string>& environment) {
  constexpr std::string_view kPrefix = "KAFKA_CFG_";
  Properties out;
  for (const auto& [name, value] : environment) {
    if (!std::string_view(name).starts_with(kPrefix) || name.size() == kPrefix.size()) continue;
    std::string property;
    for (char c : std::string_view(name).substr(kPrefix.size())) {
      property += c == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    out[property] = value;
  }
  return out;
}

bool is_secret_property(std::string_view name) {
  return name.find("password") != std::string_view::npos || name.find("secret") != std::string_view::npos ||
         name.find(".key") != std::string_view::npos || name.find("jaas") != std::string_view::npos ||
         name.find("token") != std::string_view::npos;
}

std::optional<std::string_view> Message::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.key == name) return std::string_view(h.value);
  }
  return std::nullopt;
}

ConfHandle make_conf(const std::string& name, const Properties& defaults, const Properties& overrides) {
  ConfHandle conf(rd_kafka_conf_new());
  char errstr[512];
  auto apply = [&](const std::string& key, const std::string& value) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      throw Error(RD_KAFKA_RESP_ERR__INVALID_ARG, "kafka " + name + ": property " + key + ": " + errstr);
    }
  };
  for (const auto& [key, value] : defaults) apply(key, value);
  for (const auto& [key, value] : overrides) {
    apply(key, value);
    log::info("kafka_property",
              {{"client", name}, {"property", key}, {"value", is_secret_property(key) ? "<redacted>" : value}});
  }
  rd_kafka_conf_set_log_cb(conf.get(), &log_callback);
  return conf;
}

void log_callback(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug.
  auto lvl = level <= 3   ? log::Level::error
             : level == 4 ? log::Level::warn
             : level <= 6 ? log::Level::info
                          : log::Level::debug;
  log::write(lvl, "kafka_log", {{"client", rd_kafka_name(rk)}, {"facility", facility}, {"message", message}});
}

KafkaHandle make_handle(rd_kafka_type_t type, ConfHandle conf, const std::string& name) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr) throw Error(RD_KAFKA_RESP_ERR__INVALID_ARG, "kafka " + name + ": " + errstr);
  (void)conf.release();  // rd_kafka_new owns the conf only when it succeeds
  return KafkaHandle(rk);
}

Headers read_headers(rd_kafka_message_t* m) {
  Headers out;
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  for (std::size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    out.push_back({name, value ? std::string(static_cast<const char*>(value), size) : std::string()});
  }
  return out;
}

}  // namespace kiebot::kafka
