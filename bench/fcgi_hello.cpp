// Baseline for bench/run: the smallest libfcgi app with the host's connection model (worker
// threads take new and parked kept-alive connections from one epoll set, EPOLLONESHOT, a batch of
// accepts per wake-up; see host/src/server.cpp), no routing, no database, no logging. So shopd's
// overhead is measured against FastCGI itself at every connection count: a plain FCGX_Accept_r
// loop pins a thread per kept-alive connection and collapses once nginx keeps more connections
// than there are threads (189k errors at 1024 clients, issue 11).
#include <fcgiapp.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

int g_epoll = -1;
int g_listen = -1;

void park(int fd, bool is_new) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLONESHOT | EPOLLRDHUP;
    ev.data.fd = fd;
    if (epoll_ctl(g_epoll, is_new ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0) close(fd);
}

void serve() {
    static const std::string reply =
        "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"status\":\"ok\"}";
    FCGX_Request r;
    FCGX_InitRequest(&r, g_listen, 0);
    for (;;) {
        epoll_event ev{};
        if (epoll_wait(g_epoll, &ev, 1, -1) != 1) continue;
        const int fd = ev.data.fd;
        if (fd == g_listen) {
            for (int i = 0; i < 128; ++i) {
                const int conn = accept4(g_listen, nullptr, nullptr, SOCK_CLOEXEC);
                if (conn < 0) break;
                park(conn, true);
            }
            continue;
        }
        r.ipcFd = fd;
        r.keepConnection = 1;
        if (FCGX_Accept_r(&r) < 0) continue;  // nginx closed it; libfcgi closed the fd
        const bool fresh = r.ipcFd != fd;
        FCGX_PutStr(reply.data(), static_cast<int>(reply.size()), r.out);
        FCGX_Finish_r(&r);
        if (r.ipcFd >= 0) park(r.ipcFd, fresh);
        r.ipcFd = -1;
    }
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: fcgi_hello SOCKET_PATH THREADS\n");
        return 2;
    }
    FCGX_Init();
    // libfcgi catches SIGTERM to end FCGX_Accept_r loops; this one never returns there.
    std::signal(SIGTERM, SIG_DFL);
    unlink(argv[1]);
    g_listen = FCGX_OpenSocket(argv[1], 4096);
    g_epoll = epoll_create1(EPOLL_CLOEXEC);
    if (g_listen < 0 || g_epoll < 0) return 1;
    // Non-blocking accepts: losers of a wake-up get EAGAIN and wait again.
    if (fcntl(g_listen, F_SETFL, fcntl(g_listen, F_GETFL) | O_NONBLOCK) != 0) return 1;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = g_listen;
    if (epoll_ctl(g_epoll, EPOLL_CTL_ADD, g_listen, &ev) != 0) return 1;
    const int threads = std::atoi(argv[2]);
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) pool.emplace_back(serve);
    for (auto &t : pool) t.join();
}
