// kafka-dev: an in-memory Kafka cluster (librdkafka's mock cluster) that
// other processes reach over TCP. For local runs and tests only.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "control.hpp"
#include "kiebot/base/config.hpp"
#include "kiebot/base/log.hpp"
#include "kiebot/http/server.hpp"
#include "kiebot/runtime/lifecycle.hpp"
#include "nodelay.hpp"

using namespace kiebot;

namespace {

constexpr const char* kUsage =
    "usage: kafka-dev [--brokers N] [--topics name:partitions,...] [--bootstrap-file PATH]\n"
    "                 [--control-port PORT]\n"
    "Serves an in-memory Kafka cluster on 127.0.0.1 until SIGTERM. Prints the bootstrap\n"
    "server list as its first line of output. With --control-port (0 = any free port) it\n"
    "serves an HTTP API that takes brokers down and up and injects request errors.\n"
    "Limits: everything is in memory and lost on exit; each partition keeps a bounded\n"
    "log; one replica per partition. Production uses a real Kafka cluster.\n";

struct Args {
  int brokers = 3;
  std::vector<std::pair<std::string, int>> topics;
  std::string bootstrap_file;
  std::optional<std::uint16_t> control_port;
};

std::optional<Args> parse_args(int argc, char** argv, std::string& error) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--brokers") {
        args.brokers = std::stoi(value());
        if (args.brokers < 1 || args.brokers > 16) throw std::invalid_argument("--brokers must be 1..16");
      } else if (arg == "--topics") {
        for (const auto& item : split_list(value())) {
          auto colon = item.find(':');
          int partitions = colon == std::string::npos ? 1 : std::stoi(item.substr(colon + 1));
          if (partitions < 1) throw std::invalid_argument("partition count must be positive in " + item);
          args.topics.emplace_back(item.substr(0, colon), partitions);
        }
      } else if (arg == "--bootstrap-file") {
        args.bootstrap_file = value();
      } else if (arg == "--control-port") {
        int port = std::stoi(value());
        if (port < 0 || port > 65535) throw std::invalid_argument("--control-port must be 0..65535");
        args.control_port = static_cast<std::uint16_t>(port);
      } else {
        throw std::invalid_argument("unknown argument " + arg);
      }
    } catch (const std::exception& e) {
      error = e.what();
      return std::nullopt;
    }
  }
  return args;
}

void write_file_atomically(const std::string& path, const std::string& text) {
  auto tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text << "\n";
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

// librdkafka's handle and the mock cluster it runs.
struct Cluster {
  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* mock = nullptr;
};

// The mock cluster with `args`' brokers and topics; nothing after saying why
// on stderr.
std::optional<Cluster> make_cluster(const Args& args) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new takes the conf only on success
    std::cerr << "kafka-dev: " << errstr << "\n";
    return std::nullopt;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, args.brokers);
  if (cluster == nullptr) {
    std::cerr << "kafka-dev: cannot create the mock cluster\n";
    rd_kafka_destroy(rk);
    return std::nullopt;
  }
  for (const auto& [name, partitions] : args.topics) {
    auto err = rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, std::min(args.brokers, 3));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::cerr << "kafka-dev: cannot create topic " << name << ": " << rd_kafka_err2str(err) << "\n";
      return std::nullopt;
    }
  }
  return Cluster{rk, cluster};
}

// The control API when --control-port asks for it, bound and running.
std::unique_ptr<http::Server> start_control(net::io_context& io, Lifecycle& lifecycle, rd_kafka_mock_cluster_t* cluster,
                                            const Args& args) {
  if (!args.control_port) return nullptr;
  http::ServerOptions options;
  options.address = "127.0.0.1";
  options.port = *args.control_port;
  options.name = "control";
  auto control =
      std::make_unique<http::Server>(io.get_executor(), kafka_dev::control_router(cluster, args.brokers), options);
  control->bind();
  lifecycle.spawn("control", control->run());
  return control;
}

}  // namespace

int main(int argc, char** argv) {
  Config config("kafka-dev", "in-memory Kafka cluster for local runs and tests", argc, argv);
  auto level = config.log_level();
  auto instance = config.instance_id();
  if (config.help_requested()) std::cerr << kUsage << "\n";
  if (auto code = config.finish()) return *code;
  log::init({"kafka-dev", instance, log::parse_level(level), {}});

  std::string error;
  auto args = parse_args(argc, argv, error);
  if (!args) {
    std::cerr << "kafka-dev: " << error << "\n" << kUsage;
    return 2;
  }

  auto cluster = make_cluster(*args);
  if (!cluster) return 1;
  std::string bootstraps = rd_kafka_mock_cluster_bootstraps(cluster->mock);
  std::cout << bootstraps << std::endl;
  if (!args->bootstrap_file.empty()) write_file_atomically(args->bootstrap_file, bootstraps);

  net::io_context io;
  Lifecycle lifecycle(io, std::chrono::seconds(2));
  auto control = start_control(io, lifecycle, cluster->mock, *args);
  lifecycle.spawn("cluster", kafka_dev::keep_sockets_nodelay(std::chrono::milliseconds(10)));
  nlohmann::json topics = nlohmann::json::object();
  for (const auto& [name, partitions] : args->topics) topics[name] = partitions;
  log::info("kafka_ready", {{"bootstrap", bootstraps}, {"brokers", args->brokers}, {"topics", topics}});

  int rc = lifecycle.run();
  control.reset();
  rd_kafka_mock_cluster_destroy(cluster->mock);
  rd_kafka_destroy(cluster->rk);
  log::info("stopped");
  return rc;
}
