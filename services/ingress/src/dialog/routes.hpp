// The dialog's HTTP routes on the ingress port (internal: on-call and the
// sandbox page): GET /dialog/users/{id}/jobs, a user's latest generations.
#pragma once

namespace kiebot::http {
class Router;
}

namespace kiebot::dialog {

class Store;

void add_routes(http::Router& router, Store& store);

}  // namespace kiebot::dialog
