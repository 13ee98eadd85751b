// Image headers (libs/base image_size.hpp): the start of a result file or an
// upload, any bytes. Never reads past them or throws; a size it reports has
// both dimensions and a known format, and its prefixes never disagree with it.
#include "check.hpp"
#include "kiebot/base/image_size.hpp"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  auto head = kiebot::fuzz::as_text(data, size);
  auto found = kiebot::image_size(head);
  if (!found) return 0;
  FUZZ_CHECK(found->width > 0 && found->height > 0);
  FUZZ_CHECK(found->format == "png" || found->format == "jpeg" || found->format == "gif" || found->format == "webp");
  // More bytes never change what a header already said.
  std::string longer(head);
  longer.append(64, '\xff');
  auto again = kiebot::image_size(longer);
  FUZZ_CHECK(again && again->width == found->width && again->height == found->height);
  kiebot::photo_dimensions_ok(*found);
  kiebot::thumbnail_ok(*found, size);
  return 0;
}
