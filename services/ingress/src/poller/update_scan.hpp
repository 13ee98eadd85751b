// Finds the updates in a getUpdates answer without re-serializing them: each
// update is published exactly as Telegram sent it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kiebot::ingress {

struct RawUpdate {
  std::int64_t update_id = 0;
  // The chat id; for updates without a chat (pre_checkout_query) the user
  // id; 0 when there is neither.
  std::int64_t key = 0;
  std::string_view json;  // a view into the scanned text
};

class ScanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One Update object, e.g. a webhook body. Throws ScanError when the text is
// not a JSON object with an integer update_id.
RawUpdate scan_update(std::string_view text);

// The body of a successful getUpdates answer, {"ok":true,"result":[...]}.
// Throws ScanError unless ok is true and result an array of updates.
std::vector<RawUpdate> scan_get_updates(std::string_view body);

}  // namespace kiebot::ingress
