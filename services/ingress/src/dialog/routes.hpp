// The dialog's HTTP routes on the ingress port (internal: on-call and the
// sandbox page): GET /dialog/users/{id}/jobs, a user's latest generations.
// They reveal user data, so they need `Authorization: Bearer
// <ADMIN_API_TOKEN>` and are not served at all without that token.
#pragma once

#include <string>

namespace kiebot::http {
class Router;
}

namespace kiebot::dialog {

class Store;

void add_routes(http::Router& router, Store& store, std::string admin_token);

}  // namespace kiebot::dialog
