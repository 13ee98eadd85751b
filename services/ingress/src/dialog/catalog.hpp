// The dialog reads the model catalog (libs/catalog) by its short names.
#pragma once

#include "kiebot/catalog/catalog.hpp"

namespace kiebot::dialog {

using catalog::builtin_catalog;
using catalog::Catalog;
using catalog::Field;
using catalog::Model;
using catalog::PriceRule;
using catalog::utf8_length;

}  // namespace kiebot::dialog
