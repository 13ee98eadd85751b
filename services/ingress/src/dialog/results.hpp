// Follows gen.results so that users' history and running generations show
// how their jobs ended (the dialog's jobs only: ids "dlg-...").
#pragma once

#include "kiebot/runtime/net.hpp"

namespace kiebot::kafka {
class Consumer;
}

namespace kiebot::dialog {

class Store;

net::awaitable<void> follow_results(kafka::Consumer& consumer, Store& store);

}  // namespace kiebot::dialog
