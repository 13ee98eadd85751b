// The KIE API emulator: market tasks with a timed state machine, callbacks,
// result files, credits, rate limits and faults, plus a control API.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kiebot/http/router.hpp"
#include "kiebot/runtime/net.hpp"

namespace kiebot {
class TaskGroup;
}

namespace kiebot::kie {

struct EmulatorOptions {
  std::vector<std::string> keys{"sandbox-key"};  // accepted Bearer keys
  // Base of result and upload URLs; empty: http://<Host header of the request>.
  std::string public_url;
  std::string webhook_hmac_key;  // when set, callbacks carry X-Webhook-Timestamp and X-Webhook-Signature
};

// Routes: POST /api/v1/jobs/createTask, GET /api/v1/jobs/recordInfo,
// GET /api/v1/chat/credit, POST /api/v1/common/download-url,
// POST /api/file-base64-upload, POST /api/file-url-upload,
// GET /files/{name}, GET|POST /control/config, GET /control/stats.
// Single-threaded: run on one executor.
// Tasks run as children of `background`, which the caller joins before it
// goes away.
http::Router make_router(TaskGroup& background, net::any_io_executor executor, EmulatorOptions options);

}  // namespace kiebot::kie
