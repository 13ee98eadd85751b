// Who pays (see payer.hpp).
#include "payer.hpp"

namespace kiebot::dialog {

Payer payer_for(const nlohmann::json& user, const Model& model, const nlohmann::json& values, const Catalog& catalog,
                const Texts& texts, const std::string& lang) {
  Payer p;
  p.amount = catalog.price(model, values);
  auto free_left = user.contains("free") && user["free"].is_object() ? user["free"].value("remaining", 0) : 0;
  if (catalog.is_free(model, values) && free_left > 0) {
    p.kind = "free";
    p.line = texts.format(lang, "pay.free", {{"left", std::to_string(free_left)}});
    return p;
  }
  if (user.value("is_owner", false)) {
    p.kind = "admin";
    p.amount = catalog.admin_price(model, values);
    p.line = texts.format(lang, "pay.owner", {});
    return p;
  }
  if (user.value("is_admin", false) && user.contains("admin") && user["admin"].is_object()) {
    auto price = catalog.admin_price(model, values);
    auto remaining = user["admin"].value("remaining", std::int64_t{0});
    if (remaining >= price) {
      p.kind = "admin";
      p.amount = price;
      p.line = texts.format(lang, "pay.admin", {{"left", roubles(remaining - price)}});
      return p;
    }
  }
  if (user.value("balance", std::int64_t{0}) >= p.amount) {
    p.kind = "paid";
    p.line = texts.format(lang, "pay.balance", {});
  }
  return p;
}

}  // namespace kiebot::dialog
