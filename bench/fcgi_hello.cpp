// Baseline for bench/run: the smallest threaded libfcgi app (same accept loop shape as the
// host, no routing, no database), so shopd's overhead is measured against FastCGI itself.
#include <fcgiapp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: fcgi_hello SOCKET_PATH THREADS\n");
        return 2;
    }
    FCGX_Init();
    unlink(argv[1]);
    const int fd = FCGX_OpenSocket(argv[1], 1024);
    if (fd < 0) return 1;
    const int threads = std::atoi(argv[2]);
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i)
        pool.emplace_back([fd] {
            FCGX_Request r;
            FCGX_InitRequest(&r, fd, 0);
            static const std::string reply =
                "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"status\":\"ok\"}";
            while (FCGX_Accept_r(&r) >= 0) {
                FCGX_PutStr(reply.data(), static_cast<int>(reply.size()), r.out);
                FCGX_Finish_r(&r);
            }
        });
    for (auto &t : pool) t.join();
}
