// Compiles Asio, Asio's SSL support and Beast once for the whole project
// (BOOST_*_SEPARATE_COMPILATION is defined for every target).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
