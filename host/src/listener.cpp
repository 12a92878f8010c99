// Opening the FastCGI listening socket.
#include "listener.hpp"

#include <fcgiapp.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shopd::host {

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
    // Workers accept from an epoll set; a connection another process took must not block them.
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) & ~FD_CLOEXEC);
    return fd;
}

}  // namespace shopd::host
