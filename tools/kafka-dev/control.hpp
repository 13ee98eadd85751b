// kafka-dev's HTTP control API for fault tests.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <optional>
#include <string_view>

#include "kiebot/http/router.hpp"

namespace kiebot::kafka_dev {

// POST /brokers/{id}/down|up, POST /brokers/{id}/rtt {"ms":N},
// POST /errors {"api":"Produce","errors":["NOT_LEADER_FOR_PARTITION",...]},
// DELETE /errors/{api}, POST /topics {"name","partitions"},
// POST /topics/{name}/error {"error":"TOPIC_AUTHORIZATION_FAILED"|"NO_ERROR"},
// GET /brokers.
http::Router control_router(rd_kafka_mock_cluster_t* cluster, int brokers);

// "Produce" or "0" -> 0; -1 when unknown.
int api_key(std::string_view name);
// "NOT_LEADER_FOR_PARTITION", "ERR_NOT_LEADER_FOR_PARTITION" or "6" -> code;
// nullopt when unknown.
std::optional<rd_kafka_resp_err_t> error_code(std::string_view name);

}  // namespace kiebot::kafka_dev
