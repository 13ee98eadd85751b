// Short names for Asio used across kiebot.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

namespace kiebot {
namespace net = boost::asio;
}  // namespace kiebot
