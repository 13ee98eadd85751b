// The Submit effect: who pays, the hold at accounts, the job on gen.jobs and
// its record; while accounts is away, the submission waits in the money
// queue and starts when accounts answers.
#include "../dialog.hpp"
#include "../dialog_metrics.hpp"
#include "../machine/payer.hpp"
#include "../money_queue.hpp"
#include "../store.hpp"
#include "kiebot/accounts_client/client.hpp"
#include "kiebot/base/clock.hpp"
#include "kiebot/base/json.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/kafka/kafka.hpp"
#include "kiebot/runtime/backoff.hpp"

namespace kiebot::dialog {

using nlohmann::json;

namespace {

constexpr std::int64_t kHoldMarginS = 600;

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

// The field whose value (a URL, or a list of them) names `url`; "" when none.
std::string field_of(const json& values, const std::string& url) {
  for (const auto& [name, value] : values.items()) {
    if (value == url) return name;
    if (value.is_array() && std::find(value.begin(), value.end(), json(url)) != value.end()) return name;
  }
  return {};
}

void replace_url(json& value, const std::string& from, const std::string& to) {
  if (value.is_array()) {
    for (auto& v : value) replace_url(v, from, to);
  } else if (value == from) {
    value = to;
  }
}

// accounts said no to a hold for another reason than money (a key reused
// with other terms): no retry changes that.
class HoldRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace

net::awaitable<Dialog::Refreshed> Dialog::refresh_uploads(Submit job) {
  auto oldest = unix_ms() - options_.upload_reuse.count();
  std::vector<std::pair<std::string, json>> uploads;
  for (const auto& [url, file] : job.files.items()) uploads.emplace_back(url, file);
  json files = json::object();
  for (auto& [url, file] : uploads) {
    auto field = field_of(job.values, url);
    if (field.empty()) continue;  // no longer among the values
    if (file.value("at", std::int64_t{0}) > oldest) {
      files[url] = std::move(file);
      continue;
    }
    auto upload = co_await upload_file(file.value("id", ""), file.value("name", ""));
    if (upload.telegram_refused) {
      log::info("upload_gone", {{"job_id", job.job_id}, {"field", field}});
      Refreshed gone{std::move(job), std::move(field)};
      co_return gone;
    }
    if (upload.file.url.empty()) throw std::runtime_error("an expired upload could not be made again");
    log::info("upload_renewed", {{"job_id", job.job_id}, {"field", field}});
    for (auto& [name, value] : job.values.items()) replace_url(value, url, upload.file.url);
    files[upload.file.url] = {{"id", upload.file.file_id}, {"name", upload.file.file_name}, {"at", upload.file.uploaded_ms}};
  }
  job.files = std::move(files);
  Refreshed out{std::move(job), {}};
  co_return out;
}

net::awaitable<Submitted> Dialog::submit(const Turn& t, const Conversation& c, Submit asked) {
  // Before anything else: a retried update (a failed upload throws) finds no claim or hold yet.
  auto refreshed = co_await refresh_uploads(std::move(asked));
  if (!refreshed.gone_field.empty()) {
    Submitted gone{Submitted::Result::file_gone};
    gone.field = std::move(refreshed.gone_field);
    co_return gone;
  }
  auto job = std::move(refreshed.job);
  const auto* model = p_.catalog.by_code(job.model);
  if (model == nullptr) throw std::logic_error("submit: the reducer let through an unknown model " + job.model);
  if (co_await p_.store.running_count(t.user_id) >= options_.max_running)
    co_return Submitted{Submitted::Result::too_many};
  if (!co_await p_.store.claim_submission(t.user_id, fingerprint(model->id, job.values), options_.duplicate_window,
                                          job.job_id)) {
    co_return Submitted{Submitted::Result::duplicate};
  }
  std::string unavailable;
  try {
    co_return co_await pay_and_publish(t, c.lang, *model, job.job_id, job.values, job.reply_to, job.files);
  } catch (const accounts_api::Unavailable& e) {
    unavailable = e.what();
  }
  co_return co_await queue_submission(t, c.lang, *model, std::move(job), std::move(unavailable));
}

net::awaitable<Submitted> Dialog::pay_and_publish(const Turn& t, const std::string& lang, const Model& model,
                                                  std::string job_id, json values, std::int64_t reply_to,
                                                  json files) {
  auto user = co_await load_user(t.user_id);
  auto payer = payer_for(user, model, values, p_.catalog, p_.texts, lang);
  if (payer.kind.empty()) {
    co_return Submitted{Submitted::Result::insufficient, payer.amount, user.value("balance", std::int64_t{0})};
  }
  // The hold outlives the job's deadline, with a margin for the last
  // delivery and commit: the generator refuses a hold that would expire first.
  accounts_api::HoldRequest terms{Kopecks(payer.amount), payer.kind, job_id, options_.deadline_s + kHoldMarginS};
  auto hold = co_await p_.accounts.create_hold(UserId(t.user_id), std::move(terms));
  if (hold.status == 402) {
    Metrics::get().submissions("refused");
    co_return Submitted{Submitted::Result::insufficient, payer.amount, hold.body.value("balance", std::int64_t{0})};
  }
  if (!hold.ok()) throw HoldRefused("hold refused: " + hold.error());
  auto hold_id = hold.body.value("hold_id", "");
  Screen queued{p_.texts.format(lang, "job.queued", {{"model", model.name_in(lang)}}), nullptr};
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
              {"language", lang},
              {"hold_id", hold_id},
              {"status_message_id", status_message},
              {"source", "ingress-dialog"}};
  std::string caption = model.name_in(lang);
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
    co_await p_.accounts.release(HoldId(hold_id));
    auto sorry = screens_.text_with_menu(p_.texts.format(lang, "job.not_queued", {}), lang);
    co_await edit(t.chat_id, status_message, std::move(sorry));
    co_return Submitted{Submitted::Result::not_queued};
  }
  Metrics::get().submissions(payer.kind);
  JobRecord record{job_id, model.id, values, "queued", payer.amount, now, now + options_.deadline_s * 1000,
                   std::move(files)};
  co_await p_.store.record_job(t.user_id, std::move(record));
  co_return Submitted{Submitted::Result::started};
}

net::awaitable<Submitted> Dialog::queue_submission(const Turn& t, const std::string& lang, const Model& model,
                                                   Submit job, std::string error) {
  auto job_id = job.job_id;
  MoneyOp op;
  op.key = job_id;
  op.kind = "submission";
  op.user_id = UserId(t.user_id);
  op.notify_chat = ChatId(t.chat_id);
  op.lang = lang;
  json payload = {{"model", model.id},
                  {"values", std::move(job.values)},
                  {"files", std::move(job.files)},
                  {"reply_to", job.reply_to},
                  {"message_id", t.message_id}};
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
  Screen waiting{p_.texts.format(lang, "job.waiting_accounts", {{"model", model.name_in(lang)}}), nullptr};
  co_await show(t, std::move(waiting));
  co_return Submitted{Submitted::Result::waiting};
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
  t.chat_id = op.notify_chat.value();
  t.user_id = op.user_id.value();
  t.message_id = int_field(payload, "message_id");  // the "saved" message becomes the status
  std::string unavailable, refused;
  Submitted outcome;
  try {
    outcome = co_await pay_and_publish(t, op.lang, *model, op.key, payload["values"], int_field(payload, "reply_to"),
                                       read_files(payload.value("files", json::object())));
  } catch (const accounts_api::Unavailable& e) {
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
    auto sorry = screens_.text_with_menu(p_.texts.format(op.lang, "job.not_queued", {}), op.lang);
    co_await show(t, std::move(sorry));
    co_return;
  }
  if (outcome.result == Submitted::Result::insufficient) {
    auto top_up = screens_.insufficient(op.lang, outcome.price, outcome.balance);
    co_await send(t.chat_id, std::move(top_up));
  }
  co_await p_.money.done(op.key);
  Metrics::get().money("done");
  log::info("money_operation_done",
            {{"key", op.key}, {"kind", op.kind}, {"attempts", op.attempts}, {"waited_ms", unix_ms() - op.created_ms}});
}

}  // namespace kiebot::dialog
