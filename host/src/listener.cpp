// Opening the FastCGI listening socket.
#include "listener.hpp"

#include <fcgiapp.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shopd::host {
namespace {

/// Workers accept from an epoll set (a connection another process took must not block them);
/// every worker process inherits the socket.
void prepare(int fd) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) & ~FD_CLOEXEC);
}

}  // namespace

int open_listener(const std::string &listen, unsigned mode, std::string &error) {
    std::string address = listen;
    const bool is_unix = address.rfind("unix:", 0) == 0;
    if (is_unix) {
        address = address.substr(5);
        unlink(address.c_str());  // a stale socket from a previous run would make bind fail
    }
    if (FCGX_Init() != 0) {
        error = "libfcgi failed to initialise";
        return -1;
    }
    const int fd = FCGX_OpenSocket(address.c_str(), 1024);
    if (fd < 0) {
        error = "cannot listen on " + listen;
        return -1;
    }
    // Not world-writable: anyone who can connect can speak FastCGI, i.e. forge REMOTE_ADDR and
    // reach /metrics. nginx gets access through the socket's group (or runs as our user).
    if (is_unix && chmod(address.c_str(), static_cast<mode_t>(mode)) != 0) {
        error = "chmod " + address + ": " + std::strerror(errno);
        close(fd);
        return -1;
    }
    prepare(fd);
    return fd;
}

int inherited_listener(std::string &error) {
    const int n = sd_listen_fds(1);
    if (n == 0) return -1;
    if (n != 1) {
        error = n < 0 ? std::string("LISTEN_FDS: ") + std::strerror(-n)
                      : "LISTEN_FDS: expected one socket, got " + std::to_string(n);
        return -2;
    }
    const int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
        error = "the inherited fd 3 is not a listening stream socket";
        return -2;
    }
    if (FCGX_Init() != 0) {
        error = "libfcgi failed to initialise";
        return -2;
    }
    prepare(fd);
    return fd;
}

}  // namespace shopd::host
