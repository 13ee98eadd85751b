// The accounts API's routes and bodies (see accounts_routes.hpp).
#include "kiebot/accounts_client/routes.hpp"

#include <nlohmann/json.hpp>

#include "kiebot/http/http.hpp"

namespace kiebot::accounts_api {

namespace {

std::string fill(const Route& route, std::string_view value) {
  auto pattern = route.pattern;
  auto open = pattern.find('{');
  if (open == std::string_view::npos) return std::string(pattern);
  auto close = pattern.find('}', open);
  return std::string(pattern.substr(0, open)) + http::percent_encode(value) + std::string(pattern.substr(close + 1));
}

std::string text(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t number(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  return it != body.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

}  // namespace

std::string path(const Route& route) {
  return fill(route, "");
}
std::string path(const Route& route, UserId user) {
  return fill(route, to_string(user));
}
std::string path(const Route& route, const HoldId& hold) {
  return fill(route, hold.value());
}

nlohmann::json to_json(const HoldRequest& request) {
  nlohmann::json body = {
      {"amount", request.amount}, {"kind", request.kind}, {"idempotency_key", request.idempotency_key}};
  if (request.ttl_s) body["ttl_s"] = *request.ttl_s;
  return body;
}

nlohmann::json to_json(const MoneyRequest& request) {
  nlohmann::json body = {
      {"amount", request.amount}, {"reason", request.reason}, {"idempotency_key", request.idempotency_key}};
  if (!request.ref.empty()) body["ref"] = request.ref;
  if (request.admin_id) body["admin_id"] = *request.admin_id;
  return body;
}

nlohmann::json to_json(const AdminRequest& request) {
  return {{"limit", request.limit}};
}

nlohmann::json language_body(std::string_view language) {
  return {{"language", language}};
}

nlohmann::json referral_body(UserId referrer) {
  return {{"referrer_id", referrer}};
}

HoldView read_hold_view(const nlohmann::json& body) {
  HoldView view;
  if (!body.is_object()) return view;
  view.state = text(body, "state");
  view.kind = text(body, "kind");
  view.key = text(body, "key");
  view.user_id = UserId(number(body, "user_id"));
  view.amount = Kopecks(number(body, "amount"));
  view.expires_ms = number(body, "expires_ms");
  return view;
}

}  // namespace kiebot::accounts_api
