// HTTPS client against openssl s_server with a throwaway CA made by the test.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "kiebot/http/client.hpp"
#include "process.hpp"
#include "run.hpp"

using namespace kiebot;
using namespace std::chrono_literals;

namespace {

void sh(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
}

// Two CAs; the server's certificate (SAN DNS:localhost only) is signed by the first.
struct Pki {
  test::TempDir dir;
  std::string path(const std::string& name) const { return (dir.path() / name).string(); }
  Pki() {
    auto ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    sh("openssl req -x509" + std::string(ec) + "-keyout " + path("ca.key") + " -out " + path("ca.crt") +
       " -days 2 -subj /CN=kiebot-test-ca");
    sh("openssl req -x509" + std::string(ec) + "-keyout " + path("other.key") + " -out " + path("other.crt") +
       " -days 2 -subj /CN=someone-else");
    sh("openssl req" + std::string(ec) + "-keyout " + path("server.key") + " -out " + path("server.csr") +
       " -subj /CN=localhost");
    std::ofstream(path("ext")) << "subjectAltName=DNS:localhost\n";
    sh("openssl x509 -req -in " + path("server.csr") + " -CA " + path("ca.crt") + " -CAkey " + path("ca.key") +
       " -CAcreateserial -out " + path("server.crt") + " -days 2 -extfile " + path("ext"));
  }
};

struct TlsServer {
  std::uint16_t port = test::free_port();
  std::unique_ptr<test::Process> process;
  explicit TlsServer(const Pki& pki) {
    process = std::make_unique<test::Process>(
        std::vector<std::string>{"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port),
                                 "-cert", pki.path("server.crt"), "-key", pki.path("server.key"), "-www", "-quiet"});
    for (int i = 0; i < 500 && !test::port_open(port); ++i) std::this_thread::sleep_for(10ms);
  }
};

http::ClientError::Kind failure(net::io_context& io, http::Client& client, const std::string& url) {
  try {
    test::run(io, client.get(url));
  } catch (const http::ClientError& e) {
    return e.kind();
  }
  return http::ClientError::Kind::invalid_url;  // i.e. it did not fail
}

}  // namespace

struct TlsTest : testing::Test {
  Pki pki;
  TlsServer server{pki};
  net::io_context io;

  std::string url(const std::string& host) const { return "https://" + host + ":" + std::to_string(server.port) + "/"; }
};

TEST_F(TlsTest, VerifiedCertificateAndHostName) {
  http::Client client(io.get_executor(), {.ca_file = pki.path("ca.crt")});
  EXPECT_EQ(test::run(io, client.get(url("localhost"))).status, 200);
}

TEST_F(TlsTest, WrongHostNameIsRefused) {
  // Same server, same trusted chain, but the certificate does not name 127.0.0.1.
  http::Client client(io.get_executor(), {.ca_file = pki.path("ca.crt")});
  EXPECT_EQ(failure(io, client, url("127.0.0.1")), http::ClientError::Kind::tls);
}

TEST_F(TlsTest, UntrustedCertificateIsRefused) {
  http::Client other_ca(io.get_executor(), {.ca_file = pki.path("other.crt")});
  EXPECT_EQ(failure(io, other_ca, url("localhost")), http::ClientError::Kind::tls);
  http::Client system_store(io.get_executor());
  EXPECT_EQ(failure(io, system_store, url("localhost")), http::ClientError::Kind::tls);
}
