// Bot API client (see telegram.hpp).
#include "kiebot/telegram/telegram.hpp"
#include "kiebot/base/json.hpp"

#include <algorithm>
#include <cctype>
#include <random>

#include "kiebot/base/log.hpp"
#include "kiebot/base/text.hpp"
#include "kiebot/http/client.hpp"
#include "kiebot/runtime/backoff.hpp"

namespace kiebot::telegram {

using nlohmann::json;

namespace {

// A 429's parameters.retry_after, within 1 s and an hour.
std::int64_t retry_after_s(const nlohmann::json& answer) {
  auto parameters = answer.is_object() ? answer.find("parameters") : answer.end();
  std::int64_t wait = parameters != answer.end() ? int_field(*parameters, "retry_after", 1) : 1;
  return std::clamp<std::int64_t>(wait, 1, 3600);
}

// Telegram's answer, read without trusting its shape: a field of another
// type reads as absent.
Result read_answer(const http::Response& response) {
  Result r;
  r.status = response.status;
  auto answer = parse_untrusted(response.body);
  if (answer.is_object()) {
    r.ok = answer.contains("ok") && answer["ok"].is_boolean() && answer["ok"].get<bool>();
    r.description = string_field(answer, "description");
    if (answer.contains("result")) r.result = answer["result"];
  }
  if (r.status == 429) r.retry_after_s = retry_after_s(answer);
  return r;
}

void fit_field(json& params, const char* name, std::size_t limit) {
  auto field = params.find(name);
  if (field != params.end() && field->is_string()) *field = text::fit(field->get_ref<const std::string&>(), limit);
}

// Plain text longer than Telegram takes is cut with "…" rather than refused
// with a 400 (marked-up text is the caller's to fit: a cut could split an
// entity).
void fit_texts(json& params) {
  if (!params.is_object() || params.contains("parse_mode")) return;
  fit_field(params, "text", text::kMaxMessage);
  fit_field(params, "caption", text::kMaxCaption);
  auto media = params.find("media");
  if (media != params.end() && media->is_array()) {
    for (auto& item : *media) {
      if (item.is_object() && !item.contains("parse_mode")) fit_field(item, "caption", text::kMaxCaption);
    }
  }
}

}  // namespace

Client::Client(http::Client& client, std::string base, std::string token)
    : client_(client), base_(std::move(base)), token_(std::move(token)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

net::awaitable<Result> Client::send(http::ClientRequest request, std::chrono::seconds patience) {
  auto give_up = std::chrono::steady_clock::now() + patience;
  while (true) {
    Result r;
    std::optional<http::Response> response;
    try {
      response = co_await client_.send(request);
    } catch (const http::ClientError& e) {
      r.description = e.what();
    }
    if (!response) co_return r;
    r = read_answer(*response);
    if (r.status != 429) co_return r;
    auto wait_s = r.retry_after_s;
    if (std::chrono::steady_clock::now() + std::chrono::seconds(wait_s) > give_up) co_return r;
    log::info("telegram_throttled", {{"retry_after_s", wait_s}});
    if (!co_await sleep_for(std::chrono::seconds(wait_s))) co_return r;
  }
}

std::string Client::file_url(std::string_view file_path) const {
  return base_ + "/file/bot" + token_ + "/" + std::string(file_path);
}

net::awaitable<Result> Client::call(std::string_view method, json params, std::chrono::seconds patience) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = base_ + "/bot" + token_ + "/" + std::string(method);
  request.headers = {{"Content-Type", "application/json"}};
  fit_texts(params);
  request.body = params.dump();
  request.timeout = std::chrono::seconds(60);  // Telegram fetches URLs before it answers
  co_return co_await send(std::move(request), patience);
}

std::string safe_filename(std::string_view name) {
  std::string out;
  for (unsigned char c : name.substr(0, 64)) {
    bool ok = std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
    out += ok ? static_cast<char>(c) : '_';
  }
  // Never a name made of dots ("..") alone.
  if (out.find_first_not_of("._") == std::string::npos) return "file";
  return out;
}

std::string safe_content_type(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  auto slash = type.find('/');
  auto token = [](std::string_view t) {
    if (t.empty() || t.size() > 64) return false;
    for (unsigned char c : t) {
      if (std::isalnum(c) == 0 && c != '.' && c != '+' && c != '-') return false;
    }
    return true;
  };
  if (slash == std::string_view::npos || !token(type.substr(0, slash)) || !token(type.substr(slash + 1))) {
    return "application/octet-stream";
  }
  return std::string(type);
}

std::string safe_field_name(std::string_view name) {
  std::string out;
  for (unsigned char c : name.substr(0, 64)) {
    if (std::isalnum(c) != 0 || c == '_') out += static_cast<char>(c);
  }
  return out.empty() ? "field" : out;
}

namespace {

// prefix, then the file, then suffix: a multipart body never whole in memory.
class MultipartSource final : public http::BodySource {
 public:
  MultipartSource(std::string prefix, http::BodySource* file, std::uint64_t size, std::string suffix)
      : prefix_(std::move(prefix)), file_(file), file_left_(size), suffix_(std::move(suffix)) {}

  net::awaitable<std::size_t> read(char* data, std::size_t size) override {
    if (prefix_at_ < prefix_.size()) co_return copy(prefix_, prefix_at_, data, size);
    if (file_left_ > 0) {
      auto n = co_await file_->read(data, static_cast<std::size_t>(std::min<std::uint64_t>(size, file_left_)));
      file_left_ -= n;
      co_return n;  // 0: the file ended early, and the upload with it
    }
    co_return copy(suffix_, suffix_at_, data, size);
  }

 private:
  static std::size_t copy(const std::string& from, std::size_t& at, char* data, std::size_t size) {
    auto n = std::min(size, from.size() - at);
    std::copy_n(from.data() + at, n, data);
    at += n;
    return n;
  }

  std::string prefix_;
  std::size_t prefix_at_ = 0;
  http::BodySource* file_;
  std::uint64_t file_left_;
  std::string suffix_;
  std::size_t suffix_at_ = 0;
};

}  // namespace

net::awaitable<Result> Client::upload_streamed(std::string_view method, json params, std::string field,
                                               std::string filename, std::string content_type, std::uint64_t size,
                                               http::BodySource* file) {
  static std::mt19937_64 rng{std::random_device{}()};
  auto boundary = "kiebot" + std::to_string(rng());
  fit_texts(params);
  std::string prefix;
  for (auto& [k, v] : params.items()) {
    prefix += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + safe_field_name(k) + "\"\r\n\r\n";
    prefix += v.is_string() ? v.get<std::string>() : v.dump();
    prefix += "\r\n";
  }
  prefix += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + safe_field_name(field) +
            "\"; filename=\"" + safe_filename(filename) + "\"\r\nContent-Type: " + safe_content_type(content_type) +
            "\r\n\r\n";
  std::string suffix = "\r\n--" + boundary + "--\r\n";
  auto length = prefix.size() + size + suffix.size();
  MultipartSource body(std::move(prefix), file, size, std::move(suffix));
  http::ClientRequest request;
  request.method = "POST";
  request.url = base_ + "/bot" + token_ + "/" + std::string(method);
  request.headers = {{"Content-Type", "multipart/form-data; boundary=" + boundary}};
  request.timeout = std::chrono::seconds(60);  // each piece; the whole may take longer
  Result r;
  std::optional<http::Response> response;
  try {
    response = co_await client_.send_streamed(std::move(request), length, &body);
  } catch (const http::ClientError& e) {
    r.description = e.what();
  }
  if (!response) co_return r;
  co_return read_answer(*response);
}

}  // namespace kiebot::telegram
