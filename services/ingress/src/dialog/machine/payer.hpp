// Who pays for a generation: a free generation, the owner or an admin
// within their limit (at KIE's cost), or the balance; nobody when none can.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "../screens.hpp"

namespace kiebot::dialog {

// `user` as accounts answers GET /v1/users/{id}.
Payer payer_for(const nlohmann::json& user, const Model& model, const nlohmann::json& values, const Catalog& catalog,
                const Texts& texts, const std::string& lang);

}  // namespace kiebot::dialog
