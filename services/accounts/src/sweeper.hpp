// Releases expired holds in the background, on every replica.
#pragma once

#include <chrono>

#include "kiebot/runtime/net.hpp"

namespace kiebot::accounts {

class Store;

// Flushes the batched stats and expiry index, then releases expired holds,
// every `every`, until cancelled. Every replica may run it: settling is
// idempotent.
net::awaitable<void> run_sweeper(Store& store, std::chrono::milliseconds every);

}  // namespace kiebot::accounts
