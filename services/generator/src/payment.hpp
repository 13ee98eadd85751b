// Who pays for a job: a job runs a paid KIE task only if an active hold of
// its user, made for it, covers the catalog price and outlives its
// deadline, or if its source is an allowlisted unpaid one. Pure rules.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "job.hpp"
#include "kiebot/accounts_client/routes.hpp"
#include "kiebot/base/money.hpp"

namespace kiebot::catalog {
class Catalog;
}

namespace kiebot::generator {

// GET /v1/holds/{id} at accounts.
using HoldInfo = accounts_api::HoldView;

// Why the hold does not pay for the job (a reason code for gen.results and
// the DLQ), or nothing when it does.
std::optional<std::string> hold_problem(const Job& job, const HoldInfo& hold, const catalog::Catalog& catalog);

// What the catalog charges for the job's model and KIE input (the admin
// price for admin holds); nothing for a model it does not sell.
std::optional<Kopecks> job_price(const Job& job, const std::string& hold_kind, const catalog::Catalog& catalog);

// GENERATOR_UNPAID_SOURCES: "a,b" -> {a, b}.
std::set<std::string> parse_sources(const std::string& list);

}  // namespace kiebot::generator
