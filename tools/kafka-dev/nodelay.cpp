// Sets TCP_NODELAY on the process's TCP sockets (see nodelay.hpp).
#include "nodelay.hpp"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <set>
#include <string>

namespace kiebot::kafka_dev {

namespace {

// Socket inodes already seen, so that each socket is set once.
void set_nodelay_on_new_sockets(std::set<unsigned long>& seen) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return;
  std::set<unsigned long> alive;
  while (auto* entry = ::readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;
    char target[64];
    auto path = std::string("/proc/self/fd/") + entry->d_name;
    auto n = ::readlink(path.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    unsigned long inode = 0;
    if (std::sscanf(target, "socket:[%lu]", &inode) != 1) continue;
    alive.insert(inode);
    if (seen.count(inode) != 0) continue;
    int one = 1;
    // Fails harmlessly (EOPNOTSUPP) for Unix sockets.
    ::setsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ::closedir(dir);
  seen = std::move(alive);
}

}  // namespace

net::awaitable<void> keep_sockets_nodelay(std::chrono::milliseconds interval) {
  auto executor = co_await net::this_coro::executor;
  net::steady_timer timer(executor);
  std::set<unsigned long> seen;
  while (true) {
    set_nodelay_on_new_sockets(seen);
    timer.expires_after(interval);
    co_await timer.async_wait(net::use_awaitable);
  }
}

}  // namespace kiebot::kafka_dev
