// The accounts binary's own wiring: its config, its start-up and `accounts audit`.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "callers.hpp"
#include "kiebot/service/service_runtime.hpp"
#include "store.hpp"

namespace kiebot::accounts {

struct AppConfig {
  bool audit_mode = false;
  bool allow_volatile = false;
  std::vector<std::int64_t> admin_ids;
  Settings settings;
  Callers callers;
};

// Reads every variable accounts takes (see --help) into `out`; an exit code
// when one is inconsistent (the runtime's start() reports the rest).
std::optional<int> read_config(ServiceRuntime& rt, AppConfig& out);

// The callers' tokens, for log redaction.
std::vector<std::string> caller_tokens(const Callers& callers);
void log_callers(const Callers& callers);

// Serves the API; answers /readyz with 503 until Redis is durable and the
// admins are seeded, then starts the sweeper.
void start_service(ServiceRuntime& rt, Store& store, AppConfig& config);

// `accounts audit`: recomputes every user from the ledger, prints the report
// (JSON) on stdout; 0 without drift, 1 with drift, 3 on an error.
int run_audit(ServiceRuntime& rt, Store& store);

}  // namespace kiebot::accounts
