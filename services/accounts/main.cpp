// accounts: declares its config and parts; the runtime does the rest.
#include <string_view>

#include "app.hpp"
#include "kiebot/service/service_runtime.hpp"
#include "store.hpp"

using namespace kiebot;

int main(int argc, char** argv) {
  ServiceRuntime rt("accounts",
                    "owns balances, holds, admins, free generations, gifts and languages; `accounts audit` recomputes "
                    "every account from its ledger and exits 1 on drift",
                    argc, argv);
  accounts::AppConfig config;
  config.audit_mode = argc > 1 && std::string_view(argv[1]) == "audit";
  if (auto code = accounts::read_config(rt, config)) return *code;
  if (auto code = rt.start(std::chrono::seconds(10), accounts::caller_tokens(config.callers))) return *code;
  accounts::log_callers(config.callers);

  accounts::Store store(rt.redis(), config.settings);
  if (config.audit_mode) return accounts::run_audit(rt, store);
  accounts::start_service(rt, store, config);
  return rt.run();
}
