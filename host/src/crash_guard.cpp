// The crash answer: FastCGI records built before the plugin runs, written by the signal handler
// with write(2), which is async-signal-safe; nothing else happens in the handler.
#include "crash_guard.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace shopd::host {
namespace {

constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

thread_local int t_fd = -1;
thread_local char t_answer[1024];
thread_local std::size_t t_answer_len = 0;

/// Appends one FastCGI record header (version 1) to `out`.
std::size_t record_header(char *out, std::uint8_t type, int request_id, std::size_t len) {
    const unsigned char h[8] = {1,
                                type,
                                static_cast<unsigned char>((request_id >> 8) & 0xff),
                                static_cast<unsigned char>(request_id & 0xff),
                                static_cast<unsigned char>((len >> 8) & 0xff),
                                static_cast<unsigned char>(len & 0xff),
                                0,
                                0};
    std::memcpy(out, h, sizeof h);
    return sizeof h;
}

void on_crash(int sig) {
    if (t_fd >= 0) {
        const char *p = t_answer;
        std::size_t left = t_answer_len;
        while (left > 0) {
            const ssize_t n = write(t_fd, p, left);
            if (n <= 0) break;
            p += n;
            left -= static_cast<std::size_t>(n);
        }
    }
    // Die of the same signal, so the master logs what really happened: the default action
    // runs as soon as this handler returns (the signal is blocked until then).
    (void)signal(sig, SIG_DFL);
    (void)raise(sig);
}

}  // namespace

void install_crash_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int sig : kCrashSignals) sigaction(sig, &sa, nullptr);
}

void prepare_thread_for_crashes() {
    // A thread that has one keeps it (AddressSanitizer gives each thread its own and unmaps it
    // when the thread ends: replacing it makes that unmap fail).
    stack_t current{};
    if (sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE) == 0) return;
    static thread_local char stack[64 * 1024];
    stack_t ss{};
    ss.ss_sp = stack;
    ss.ss_size = sizeof stack;
    sigaltstack(&ss, nullptr);
}

CrashGuard::CrashGuard(int fd, int request_id, const std::string &x_request_id) noexcept {
    static constexpr std::uint8_t kStdout = 6, kEndRequest = 3;
    char body[512];
    const int body_len = std::snprintf(
        body, sizeof body,
        "Status: 500 Internal Server Error\r\nContent-Type: application/problem+json\r\n"
        "X-Request-Id: %.128s\r\n\r\n"
        "{\"type\":\"about:blank\",\"title\":\"Internal Server Error\",\"status\":500,"
        "\"detail\":\"The server failed to complete the request.\"}",
        x_request_id.c_str());
    if (body_len <= 0 || static_cast<std::size_t>(body_len) >= sizeof body) return;
    const auto len = static_cast<std::size_t>(body_len);
    std::size_t n = record_header(t_answer, kStdout, request_id, len);
    std::memcpy(t_answer + n, body, static_cast<std::size_t>(body_len));
    n += static_cast<std::size_t>(body_len);
    n += record_header(t_answer + n, kStdout, request_id, 0);  // end of the stream
    n += record_header(t_answer + n, kEndRequest, request_id, 8);
    std::memset(t_answer + n, 0, 8);  // app status 0, FCGI_REQUEST_COMPLETE
    t_answer_len = n + 8;
    t_fd = fd;
}

CrashGuard::~CrashGuard() { t_fd = -1; }

}  // namespace shopd::host
