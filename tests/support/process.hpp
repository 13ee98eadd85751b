// Child processes for integration tests: started on loopback, always stopped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiebot::test {

// A fresh temporary directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A loopback TCP port that was free a moment ago.
std::uint16_t free_port();
// True when something accepts TCP connections on 127.0.0.1:port.
bool port_open(std::uint16_t port);

// Runs a program with stdout on a pipe and stderr in a file. The child gets
// SIGKILL if the test process dies; the destructor sends SIGTERM, then
// SIGKILL after a grace period, and fails the current test when the program
// logged a bug ({"error_kind":"bug"}, errors.hpp) unless allow_bugs() said so.
class Process {
 public:
  Process(std::vector<std::string> argv, std::map<std::string, std::string> env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // The next stdout line, or nothing after `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // Waits for a stderr line containing `needle`; returns the line.
  std::optional<std::string> wait_for_stderr(const std::string& needle, std::chrono::milliseconds timeout);
  std::string stderr_text() const;
  // Sends `signal` and waits; returns the exit status (128+signal if killed).
  int stop(int signal, std::chrono::milliseconds grace);
  // The port from this process's {"event":"listening","port":N} log line.
  std::uint16_t listening_port(std::chrono::milliseconds timeout);
  // For a test that makes the program meet a bug on purpose.
  void allow_bugs() { bugs_allowed_ = true; }
  // The program's {"error_kind":"bug"} lines so far.
  std::vector<std::string> bug_lines() const;

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string stdout_buffer_;
  std::filesystem::path stderr_path_;
  std::optional<int> status_;
  bool bugs_allowed_ = false;
};

}  // namespace kiebot::test
