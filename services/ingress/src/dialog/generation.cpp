// The generation form: model -> parameters -> prompt -> photo -> price
// confirmation -> hold at accounts -> job on gen.jobs (see dialog.hpp).
#include <random>

#include "kiebot/common/json.hpp"
#include "accounts_api.hpp"
#include "callback_data.hpp"
#include "dialog.hpp"
#include "dialog_metrics.hpp"
#include "kiebot/common/backoff.hpp"
#include "kiebot/common/base64.hpp"
#include "kiebot/common/clock.hpp"
#include "kiebot/common/http_client.hpp"
#include "kiebot/common/kafka.hpp"
#include "kiebot/common/log.hpp"
#include "kiebot/common/telegram.hpp"
#include "money_queue.hpp"
#include "store.hpp"

namespace kiebot::dialog {

using nlohmann::json;

namespace {

std::string new_nonce() {
  static std::mt19937_64 rng{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string out(8, '0');
  auto v = rng();
  for (auto& c : out) {
    c = digits[v & 15];
    v >>= 4;
  }
  return out;
}

// What makes two submissions "the same": the model and every value.
std::string fingerprint(const std::string& model, const json& values) {
  return std::to_string(std::hash<std::string>{}(model + "\n" + values.dump()));
}

const Field* first_of(const Model& model, Field::Type type) {
  for (const auto& f : model.fields) {
    if (f.type == type) return &f;
  }
  return nullptr;
}

bool has_buttons(const Model& model) {
  for (const auto& f : model.fields) {
    if (f.type == Field::Type::choice || f.type == Field::Type::boolean) return true;
  }
  return false;
}

}  // namespace

net::awaitable<void> Dialog::open_form(Turn& t, const Model& model, json values) {
  json form = {{"nonce", new_nonce()}, {"model", model.code}, {"values", std::move(values)}, {"step", "params"}};
  t.state["form"] = form;
  t.state.erase("await");
  t.state_changed = true;
  if (!has_buttons(model)) {
    co_await next_step(t);
    co_return;
  }
  co_await show(t, screens_.form(t.lang, model, form["values"], form["nonce"].get<std::string>()));
}

net::awaitable<void> Dialog::form_action(Turn& t, const Callback& c) {
  const auto& form = t.state.contains("form") ? t.state["form"] : json();
  const Model* model = form.is_object() ? p_.catalog.by_code(form.value("model", "")) : nullptr;
  if (!model || form.value("nonce", "") != c.arg(0)) {
    // A button of a form that was finished, cancelled or replaced.
    Metrics::get().expired_callbacks.inc();
    co_await answer(t, text(t, "expired"));
    t.message_id = 0;
    co_await main_menu(t, text(t, "expired"));
    co_return;
  }
  auto& values = t.state["form"]["values"];
  t.state_changed = true;
  if (c.verb == "opt" || c.verb == "tog") {
    std::size_t fi = 0, oi = 0;
    try {
      fi = std::stoul(c.arg(1));
      oi = c.verb == "opt" ? std::stoul(c.arg(2)) : 0;
    } catch (const std::exception&) {
      fi = model->fields.size();
    }
    if (fi >= model->fields.size()) {
      co_await answer(t, text(t, "expired"));
      co_return;
    }
    const auto& f = model->fields[fi];
    if (c.verb == "tog" && f.type == Field::Type::boolean) {
      values[f.name] = values.value(f.name, "false") == "true" ? "false" : "true";
    } else if (c.verb == "opt" && f.type == Field::Type::choice && oi < f.options.size()) {
      values[f.name] = f.options[oi];
    }
    co_await answer(t, "");
    co_await show(t, screens_.form(t.lang, *model, values, c.arg(0)));
  } else if (c.verb == "go") {
    co_await answer(t, "");
    co_await next_step(t);
  } else if (c.verb == "edit") {
    co_await answer(t, "");
    t.state["form"]["step"] = "params";
    co_await show(t, screens_.form(t.lang, *model, values, c.arg(0)));
  } else if (c.verb == "no") {
    co_await answer(t, text(t, "form.cancelled"));
    co_await main_menu(t, text(t, "form.cancelled"));
  } else if (c.verb == "ok") {
    co_await answer(t, "");
    co_await submit(t);
  }
}

net::awaitable<void> Dialog::next_step(Turn& t) {
  auto& form = t.state["form"];
  const auto* model = p_.catalog.by_code(form.value("model", ""));
  const auto& values = form["values"];
  t.state_changed = true;
  const auto* prompt = first_of(*model, Field::Type::prompt);
  const auto* image = first_of(*model, Field::Type::image);
  if (prompt && !values.contains(prompt->name)) {
    form["step"] = "prompt";
    auto screen =
        screens_.text_with_menu(text(t, "form.ask_prompt", {{"max", std::to_string(prompt->max_length)}}), t.lang);
    co_await send(t, std::move(screen));
    co_return;
  }
  if (image && !values.contains(image->name)) {
    form["step"] = "image";
    co_await send(t, screens_.text_with_menu(text(t, "form.ask_image"), t.lang));
    co_return;
  }
  form["step"] = "confirm";
  auto user = co_await load_user(t.user_id);
  auto payer = payer_for(t, user, *model, values);
  auto balance = user.value("balance", std::int64_t{0});
  if (payer.kind.empty()) {
    co_await send(t, screens_.insufficient(t.lang, payer.amount, balance));
    co_return;
  }
  auto after = roubles(payer.kind == "paid" ? balance - payer.amount : balance);
  auto screen = screens_.confirm(t.lang, *model, values, form["nonce"].get<std::string>(), payer, after);
  co_await send(t, std::move(screen));
}

Payer Dialog::payer_for(const Turn& t, const json& user, const Model& model, const json& values) const {
  Payer p;
  p.amount = p_.catalog.price(model, values);
  auto free_left = user.contains("free") ? user["free"].value("remaining", 0) : 0;
  if (model.free && free_left > 0) {
    p.kind = "free";
    p.line = text(t, "pay.free", {{"left", std::to_string(free_left)}});
    return p;
  }
  if (user.value("is_owner", false)) {
    p.kind = "admin";
    p.amount = p_.catalog.admin_price(model, values);
    p.line = text(t, "pay.owner");
    return p;
  }
  if (user.value("is_admin", false) && user["admin"].is_object()) {
    auto price = p_.catalog.admin_price(model, values);
    auto remaining = user["admin"].value("remaining", std::int64_t{0});
    if (remaining >= price) {
      p.kind = "admin";
      p.amount = price;
      p.line = text(t, "pay.admin", {{"left", roubles(remaining - price)}});
      return p;
    }
  }
  if (user.value("balance", std::int64_t{0}) >= p.amount) {
    p.kind = "paid";
    p.line = text(t, "pay.balance");
  }
  return p;
}

net::awaitable<void> Dialog::form_text(Turn& t, std::string body) {
  auto& form = t.state["form"];
  const auto* model = p_.catalog.by_code(form.value("model", ""));
  const auto* prompt = model ? first_of(*model, Field::Type::prompt) : nullptr;
  if (form.value("step", "") != "prompt" || !prompt) {
    auto hint = form.value("step", "") == "image" ? "form.ask_image" : "form.use_buttons";
    co_await send(t, screens_.text_with_menu(text(t, hint), t.lang));
    co_return;
  }
  auto length = utf8_length(body);
  if (length > prompt->max_length || length < prompt->min_length) {
    auto key = length > prompt->max_length ? "form.prompt_too_long" : "form.prompt_too_short";
    auto screen = screens_.text_with_menu(text(t, key,
                                               {{"max", std::to_string(prompt->max_length)},
                                                {"min", std::to_string(prompt->min_length)},
                                                {"length", std::to_string(length)}}),
                                          t.lang);
    co_await send(t, std::move(screen));
    co_return;
  }
  form["values"][prompt->name] = std::move(body);
  form["reply_to"] = t.user_message_id;  // the result answers the description
  co_await next_step(t);
}

net::awaitable<void> Dialog::form_photo(Turn& t, json message) {
  const auto& form = t.state.contains("form") ? t.state["form"] : json();
  const auto* model = form.is_object() ? p_.catalog.by_code(form.value("model", "")) : nullptr;
  const auto* image = model ? first_of(*model, Field::Type::image) : nullptr;
  if (!image || form.value("step", "") != "image") {
    co_await main_menu(t, text(t, "unknown.photo"));
    co_return;
  }
  // The largest size Telegram offers is the last.
  auto file_id = message["photo"].back().value("file_id", "");
  auto url = co_await upload_photo(std::move(file_id));
  if (url.empty()) {
    co_await send(t, screens_.text_with_menu(text(t, "form.photo_failed"), t.lang));
    co_return;
  }
  t.state["form"]["values"][image->name] = url;
  t.state_changed = true;
  co_await next_step(t);
}

// KIE fetches input images by URL. A Telegram file URL contains the bot
// token, so the photo goes to KIE's own file storage and KIE gets that URL.
net::awaitable<std::string> Dialog::upload_photo(std::string file_id) {
  json params = {{"file_id", file_id}};
  auto file = co_await p_.telegram.call("getFile", std::move(params), std::chrono::seconds(10));
  if (!file.ok) {
    log::warn("get_file_failed", {{"status", file.status}, {"description", file.description}});
    co_return std::string();
  }
  auto path = file.result.value("file_path", "");
  http::ClientRequest download{"GET", p_.telegram.file_url(path), {}, {}, std::chrono::seconds(30), options_.fetch_policy};
  auto bytes = co_await p_.http.send(std::move(download));
  if (bytes.status != 200) {
    log::warn("photo_download_failed", {{"status", bytes.status}});
    co_return std::string();
  }
  json upload_body = {{"base64Data", base64_encode(bytes.body)},
                      {"uploadPath", "kiebot/inputs"},
                      {"fileName", file_id.substr(0, 32) + ".jpg"}};
  http::ClientRequest upload{"POST",
                             options_.kie_upload_base + "/api/file-base64-upload",
                             {{"Authorization", "Bearer " + options_.kie_key}, {"Content-Type", "application/json"}},
                             upload_body.dump(),
                             std::chrono::seconds(60)};
  auto uploaded = co_await p_.http.send(std::move(upload));
  auto answer = parse_untrusted(uploaded.body);
  if (uploaded.status != 200 || !answer.is_object() || !answer.contains("data") || !answer["data"].is_object()) {
    log::warn("photo_upload_failed", {{"status", uploaded.status}});
    co_return std::string();
  }
  co_return answer["data"].value("downloadUrl", "");
}

namespace {
constexpr std::int64_t kHoldMarginS = 600;

// accounts said no to a hold for another reason than money (a key reused
// with other terms): no retry changes that.
class HoldRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
}  // namespace

net::awaitable<void> Dialog::submit(Turn& t) {
  auto form = t.state["form"];
  const auto* model = p_.catalog.by_code(form.value("model", ""));
  const auto& values = form["values"];
  if (form.value("step", "") != "confirm" || !p_.catalog.incomplete_field(*model, values).empty()) {
    co_await next_step(t);
    co_return;
  }
  if (co_await p_.store.running_count(t.user_id) >= options_.max_running) {
    auto screen =
        screens_.text_with_menu(text(t, "form.too_many", {{"max", std::to_string(options_.max_running)}}), t.lang);
    co_await send(t, std::move(screen));
    co_return;
  }
  // One job per form: a retried update finds the same hold and job id.
  auto job_id = "dlg-" + std::to_string(t.user_id) + "-" + form.value("nonce", "");
  if (!co_await p_.store.claim_submission(t.user_id, fingerprint(model->id, values), options_.duplicate_window,
                                          job_id)) {
    Metrics::get().duplicate_submissions.inc();
    co_await send(t, screens_.text_with_menu(text(t, "form.duplicate"), t.lang));
    co_return;
  }
  auto reply_to = form.value("reply_to", std::int64_t{0});
  std::string unavailable;
  try {
    co_await pay_and_publish(t, *model, job_id, values, reply_to);
  } catch (const AccountsUnavailable& e) {
    unavailable = e.what();
  }
  if (!unavailable.empty()) co_await queue_submission(t, *model, job_id, values, reply_to, std::move(unavailable));
}

net::awaitable<void> Dialog::pay_and_publish(Turn& t, const Model& model, std::string job_id, json values,
                                             std::int64_t reply_to) {
  auto user = co_await load_user(t.user_id);
  auto payer = payer_for(t, user, model, values);
  if (payer.kind.empty()) {
    co_await send(t, screens_.insufficient(t.lang, payer.amount, user.value("balance", std::int64_t{0})));
    co_return;
  }
  // The hold outlives the job's deadline, with a margin for the last
  // delivery and commit: the generator refuses a hold that would expire first.
  auto hold = co_await p_.accounts.hold(t.user_id, payer.amount, payer.kind, job_id,
                                        options_.deadline_s + kHoldMarginS);
  if (hold.status == 402) {
    Metrics::get().submissions("refused");
    co_await send(t, screens_.insufficient(t.lang, payer.amount, hold.body.value("balance", std::int64_t{0})));
    co_return;
  }
  if (!hold.ok()) throw HoldRefused("hold refused: " + hold.error());
  auto hold_id = hold.body.value("hold_id", "");
  auto status_text = text(t, "job.queued", {{"model", model.name_in(t.lang)}});
  Screen queued{status_text, nullptr};
  auto status_message = co_await show(t, std::move(queued));
  auto now = unix_ms();
  json job = {{"v", 1},
              {"job_id", job_id},
              {"model", model.id},
              {"input", p_.catalog.kie_input(model, values)},
              {"created_ms", now},
              {"deadline_s", options_.deadline_s},
              {"user_id", t.user_id},
              {"chat_id", t.chat_id},
              {"language", t.lang},
              {"hold_id", hold_id},
              {"status_message_id", status_message},
              {"source", "ingress-dialog"}};
  std::string caption = model.name_in(t.lang);
  if (const auto* prompt = first_of(model, Field::Type::prompt)) caption += ": " + values.value(prompt->name, "");
  job["caption"] = caption;  // the generator cuts it to Telegram's 1024 characters
  if (reply_to > 0) job["reply_to_message_id"] = reply_to;
  bool published = true;
  try {
    kafka::Headers headers;
    co_await p_.producer.send(options_.jobs_topic, job_id, job.dump(), std::move(headers));
  } catch (const kafka::Error& e) {
    log::error("job_publish_failed", {{"job_id", job_id}, {"error", e.what()}});
    published = false;
  }
  if (!published) {
    Metrics::get().submissions("publish_failed");
    co_await p_.accounts.release(hold_id);
    co_await edit(t, status_message, screens_.text_with_menu(text(t, "job.not_queued"), t.lang));
    co_return;
  }
  Metrics::get().submissions(payer.kind);
  JobRecord record{job_id, model.id, values, "queued", payer.amount, now, now + options_.deadline_s * 1000};
  co_await p_.store.record_job(t.user_id, std::move(record));
  if (t.state.is_object()) {  // a turn's form is done (the money queue has none)
    t.state.erase("form");
    t.state_changed = true;
  }
}

net::awaitable<void> Dialog::queue_submission(Turn& t, const Model& model, std::string job_id, json values,
                                              std::int64_t reply_to, std::string error) {
  MoneyOp op;
  op.key = job_id;
  op.kind = "submission";
  op.user_id = t.user_id;
  op.notify_chat = t.chat_id;
  op.lang = t.lang;
  json payload = {{"model", model.id}, {"values", std::move(values)}, {"reply_to", reply_to}, {"message_id", t.message_id}};
  op.payload = payload.dump();
  op.attempts = 1;
  op.created_ms = unix_ms();
  auto due = op.created_ms + backoff_delay(options_.money_retry_min, options_.money_retry_max, 0).count();
  log::warn("submission_queued", {{"job_id", job_id}, {"user_id", t.user_id}, {"error", error}});
  try {
    co_await p_.money.add(std::move(op), due);
  } catch (const std::exception& e) {
    throw MoneyNotRecorded("accounts unavailable (" + error + ") and the money queue too: " + e.what());
  }
  Metrics::get().submissions("waiting");
  Metrics::get().money("queued");
  t.state.erase("form");
  t.state_changed = true;
  Screen waiting{text(t, "job.waiting_accounts", {{"model", model.name_in(t.lang)}}), nullptr};
  co_await show(t, std::move(waiting));
}

net::awaitable<void> Dialog::run_submission(MoneyOp op) {
  auto payload = parse_untrusted(op.payload);
  const auto* model = p_.catalog.by_id(string_field(payload, "model"));
  if (model == nullptr || !payload["values"].is_object()) {
    // Written by a release that knew another catalog.
    log::error("submission_unreadable", {{"job_id", op.key}, {"payload", op.payload}});
    co_await p_.money.refuse(op, "unknown model or values");
    co_return;
  }
  Turn t;
  t.chat_id = op.notify_chat;
  t.user_id = op.user_id;
  t.lang = op.lang;
  t.message_id = int_field(payload, "message_id");  // the "saved" message becomes the status
  std::string unavailable, refused;
  try {
    co_await pay_and_publish(t, *model, op.key, payload["values"], int_field(payload, "reply_to"));
  } catch (const AccountsUnavailable& e) {
    unavailable = e.what();
  } catch (const HoldRefused& e) {
    refused = e.what();
  }
  if (!unavailable.empty()) {
    co_await retry_money_op(std::move(op), std::move(unavailable));
    co_return;
  }
  if (!refused.empty()) {
    log::error("money_operation_refused", {{"key", op.key}, {"kind", op.kind}, {"answer", refused}});
    Metrics::get().money("refused");
    co_await p_.money.refuse(op, refused);
    co_await show(t, screens_.text_with_menu(text(t, "job.not_queued"), t.lang));
    co_return;
  }
  co_await p_.money.done(op.key);
  Metrics::get().money("done");
  log::info("money_operation_done",
            {{"key", op.key}, {"kind", op.kind}, {"attempts", op.attempts}, {"waited_ms", unix_ms() - op.created_ms}});
}

net::awaitable<void> Dialog::repeat(Turn& t, std::string job_id) {
  auto record = co_await p_.store.job(t.user_id, job_id);
  const Model* model = record ? p_.catalog.by_id(record->model) : nullptr;
  if (!model) {
    co_await main_menu(t, text(t, "expired"));
    co_return;
  }
  // The same model and inputs, and a new price confirmation.
  json form = {{"nonce", new_nonce()}, {"model", model->code}, {"values", record->values}, {"step", "confirm"}};
  t.state["form"] = form;
  t.state_changed = true;
  co_await next_step(t);
}

}  // namespace kiebot::dialog
