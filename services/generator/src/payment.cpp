// Payment rules of a job (see payment.hpp).
#include "payment.hpp"

#include "kiebot/catalog/catalog.hpp"

namespace kiebot::generator {

std::optional<Kopecks> job_price(const Job& job, const std::string& hold_kind, const catalog::Catalog& catalog) {
  const auto* model = catalog.by_id(job.model);
  if (model == nullptr) return std::nullopt;
  // The catalog prices the form's values (strings); KIE's input has the same
  // names, with booleans as JSON booleans.
  nlohmann::json values = nlohmann::json::object();
  for (const auto& field : model->fields) {
    auto it = job.input.find(field.name);
    if (it == job.input.end()) continue;
    if (it->is_string()) values[field.name] = it->get<std::string>();
    if (it->is_boolean()) values[field.name] = it->get<bool>() ? "true" : "false";
    if (it->is_number_integer()) values[field.name] = std::to_string(it->get<std::int64_t>());
  }
  return Kopecks(hold_kind == "admin" ? catalog.admin_price(*model, values) : catalog.price(*model, values));
}

std::optional<std::string> hold_problem(const Job& job, const HoldInfo& hold, const catalog::Catalog& catalog) {
  if (hold.state != "held") return "hold_" + (hold.state.empty() ? std::string("unknown") : hold.state);
  if (!job.user_id || hold.user_id != *job.user_id) return std::string("hold_wrong_user");
  if (hold.key != job.id) return std::string("hold_wrong_job");
  if (hold.expires_ms < job.deadline_ms()) return std::string("hold_expires_before_deadline");
  const auto* model = catalog.by_id(job.model);
  if (model == nullptr) return std::string("model_not_sold");
  if (hold.kind == "free" && !model->free) return std::string("hold_free_not_allowed");
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
