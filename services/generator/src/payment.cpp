// Payment rules of a job (see payment.hpp).
#include "payment.hpp"

#include "kiebot/catalog/catalog.hpp"

namespace kiebot::generator {

std::optional<Kopecks> job_price(const Job& job, const std::string& hold_kind, const catalog::Catalog& catalog) {
  const auto* model = catalog.by_id(job.model);
  if (model == nullptr) return std::nullopt;
  // The catalog prices the form's values: the input's, in the form's strings.
  auto values = catalog.form_values(*model, job.input);
  return Kopecks(hold_kind == "admin" ? catalog.admin_price(*model, values) : catalog.price(*model, values));
}

std::optional<std::string> hold_problem(const Job& job, const HoldInfo& hold, const catalog::Catalog& catalog) {
  if (hold.state != "held") return "hold_" + (hold.state.empty() ? std::string("unknown") : hold.state);
  if (!job.user_id || hold.user_id != *job.user_id) return std::string("hold_wrong_user");
  if (hold.key != job.id) return std::string("hold_wrong_job");
  if (hold.expires_ms < job.deadline_ms()) return std::string("hold_expires_before_deadline");
  const auto* model = catalog.by_id(job.model);
  if (model == nullptr) return std::nullopt;  // check_input fails it, releasing this job's hold
  if (hold.kind == "free" && !catalog.is_free(*model, catalog.form_values(*model, job.input)))
    return std::string("hold_free_not_allowed");
  auto price = job_price(job, hold.kind, catalog);
  if (!price || hold.amount < *price) return std::string("hold_too_small");
  return std::nullopt;
}

std::set<std::string> parse_sources(const std::string& list) {
  std::set<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto comma = list.find(',', start);
    auto item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.insert(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace kiebot::generator
