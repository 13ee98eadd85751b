// kafka-dev control API: take brokers down and up, inject request errors.
#include "control.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <map>

#include "kiebot/base/log.hpp"

namespace kiebot::kafka_dev {

namespace {

// Kafka protocol API keys (kafka.apache.org/protocol#protocol_api_keys).
const std::map<std::string, int, std::less<>> kApiKeys = {
    {"Produce", 0},          {"Fetch", 1},
    {"ListOffsets", 2},      {"Metadata", 3},
    {"OffsetCommit", 8},     {"OffsetFetch", 9},
    {"FindCoordinator", 10}, {"JoinGroup", 11},
    {"Heartbeat", 12},       {"LeaveGroup", 13},
    {"SyncGroup", 14},       {"ApiVersions", 18},
    {"InitProducerId", 22},  {"AddPartitionsToTxn", 24},
    {"EndTxn", 26},
};

std::optional<int> to_int(std::string_view text) {
  int value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || p != text.data() + text.size()) return std::nullopt;
  return value;
}

int broker_id(const http::Request& r, int brokers) {
  auto id = to_int(r.params.at("id"));
  if (!id || *id < 1 || *id > brokers) {
    throw http::BadRequest{404, "no_such_broker", "brokers are numbered 1.." + std::to_string(brokers)};
  }
  return *id;
}

http::Response done(const nlohmann::json& body) {
  return http::Response::json(200, body);
}

}  // namespace

int api_key(std::string_view name) {
  if (auto it = kApiKeys.find(name); it != kApiKeys.end()) return it->second;
  if (auto n = to_int(name); n && *n >= 0) return *n;
  return -1;
}

std::optional<rd_kafka_resp_err_t> error_code(std::string_view name) {
  if (auto n = to_int(name)) return static_cast<rd_kafka_resp_err_t>(*n);
  if (name.starts_with("ERR_")) name.remove_prefix(4);
  const rd_kafka_err_desc* descs = nullptr;
  std::size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  for (std::size_t i = 0; i < count; ++i) {
    if (descs[i].name != nullptr && name == descs[i].name) return descs[i].code;
  }
  return std::nullopt;
}

namespace {

// Brokers: listed, taken down and up, slowed.
void add_broker_routes(http::Router& router, rd_kafka_mock_cluster_t* cluster, int brokers) {
  router.add("GET", "/brokers", http::SyncHandler([brokers](const http::Request&) {
               nlohmann::json ids = nlohmann::json::array();
               for (int i = 1; i <= brokers; ++i) ids.push_back(i);
               return done({{"brokers", ids}});
             }));
  router.add("POST", "/brokers/{id}/down", http::SyncHandler([cluster, brokers](const http::Request& r) {
               int id = broker_id(r, brokers);
               rd_kafka_mock_broker_set_down(cluster, id);
               log::info("broker_down", {{"broker", id}});
               return done({{"broker", id}, {"state", "down"}});
             }));
  router.add("POST", "/brokers/{id}/up", http::SyncHandler([cluster, brokers](const http::Request& r) {
               int id = broker_id(r, brokers);
               rd_kafka_mock_broker_set_up(cluster, id);
               log::info("broker_up", {{"broker", id}});
               return done({{"broker", id}, {"state", "up"}});
             }));
  router.add("POST", "/brokers/{id}/rtt", http::SyncHandler([cluster, brokers](const http::Request& r) {
               int id = broker_id(r, brokers);
               int ms = r.json().at("ms").get<int>();
               rd_kafka_mock_broker_set_rtt(cluster, id, ms);
               return done({{"broker", id}, {"rtt_ms", ms}});
             }));
}

// Errors the brokers answer to the next requests of one API.
void add_error_routes(http::Router& router, rd_kafka_mock_cluster_t* cluster) {
  router.add(
      "POST", "/errors", http::SyncHandler([cluster](const http::Request& r) {
        auto body = r.json();
        auto api = body.at("api").is_number() ? body["api"].get<int>() : api_key(body.at("api").get<std::string>());
        if (api < 0) throw http::BadRequest{400, "unknown_api", "unknown Kafka API name"};
        std::vector<rd_kafka_resp_err_t> errors;
        for (const auto& e : body.at("errors")) {
          auto code = e.is_number() ? std::optional(static_cast<rd_kafka_resp_err_t>(e.get<int>()))
                                    : error_code(e.get<std::string>());
          if (!code) throw http::BadRequest{400, "unknown_error", "unknown Kafka error " + e.dump()};
          errors.push_back(*code);
        }
        rd_kafka_mock_push_request_errors_array(cluster, static_cast<int16_t>(api), errors.size(), errors.data());
        log::info("errors_injected", {{"api", api}, {"count", errors.size()}});
        return done({{"api", api}, {"queued", errors.size()}});
      }));
  router.add("DELETE", "/errors/{api}", http::SyncHandler([cluster](const http::Request& r) {
               int api = api_key(r.params.at("api"));
               if (api < 0) throw http::BadRequest{400, "unknown_api", "unknown Kafka API name"};
               rd_kafka_mock_clear_request_errors(cluster, static_cast<int16_t>(api));
               return done({{"api", api}, {"cleared", true}});
             }));
}

// Topics: created, or made to fail.
void add_topic_routes(http::Router& router, rd_kafka_mock_cluster_t* cluster) {
  router.add("POST", "/topics", http::SyncHandler([cluster](const http::Request& r) {
               auto body = r.json();
               auto name = body.at("name").get<std::string>();
               int partitions = body.value("partitions", 1);
               auto err = rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, 1);
               if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                 throw http::BadRequest{409, "topic_create_failed", rd_kafka_err2str(err)};
               }
               return done({{"topic", name}, {"partitions", partitions}});
             }));
  router.add("POST", "/topics/{name}/error", http::SyncHandler([cluster](const http::Request& r) {
               auto body = r.json();
               auto code = body.at("error").is_number()
                               ? std::optional(static_cast<rd_kafka_resp_err_t>(body["error"].get<int>()))
                               : error_code(body.at("error").get<std::string>());
               if (!code) throw http::BadRequest{400, "unknown_error", "unknown Kafka error"};
               rd_kafka_mock_topic_set_error(cluster, r.params.at("name").c_str(), *code);
               return done({{"topic", r.params.at("name")}, {"error", rd_kafka_err2name(*code)}});
             }));
}
}  // namespace

http::Router control_router(rd_kafka_mock_cluster_t* cluster, int brokers) {
  http::Router router;
  add_broker_routes(router, cluster, brokers);
  add_error_routes(router, cluster);
  add_topic_routes(router, cluster);
  return router;
}

}  // namespace kiebot::kafka_dev
