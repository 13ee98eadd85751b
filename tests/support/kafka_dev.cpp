// kafka-dev fixture.
#include "kafka_dev.hpp"

#include <boost/asio/io_context.hpp>

#include <stdexcept>

#include "kiebot/http/client.hpp"
#include "run.hpp"

namespace kiebot::test {

KafkaDev::KafkaDev(std::string topics, int brokers) {
  process_ = std::make_unique<Process>(std::vector<std::string>{std::string(KIEBOT_BIN_DIR) + "/kafka-dev", "--brokers",
                                                                std::to_string(brokers), "--topics", topics,
                                                                "--control-port", "0"});
  auto line = process_->read_line(std::chrono::seconds(20));
  if (!line) throw std::runtime_error("kafka-dev printed no bootstrap list: " + process_->stderr_text());
  bootstrap_ = *line;
  control_port_ = process_->listening_port(std::chrono::seconds(10));
}

int KafkaDev::control(const std::string& method, const std::string& path, const std::string& body) {
  net::io_context io;
  http::Client client(io.get_executor());
  http::ClientRequest request{method,
                              "http://127.0.0.1:" + std::to_string(control_port_) + path,
                              {{"Content-Type", "application/json"}},
                              body,
                              {}};
  auto response = run(io, client.send(std::move(request)));
  return response.status;
}

}  // namespace kiebot::test
