// A plugin that crashes its worker process (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) answers the
// request that crashed with a 500 problem before the process dies. Without an answer nginx sees
// a broken connection, retries the GET on the next worker, and the same request kills that one
// too; with it, only the crashing worker is lost (the master respawns it).
#pragma once

#include <string>

namespace shopd::host {

/// Installs the crash handlers of this worker process (once, before its threads start).
void install_crash_handlers();

/// Gives the calling thread an alternate signal stack, so a stack overflow is answered too.
void prepare_thread_for_crashes();

/// While alive, a crash on this thread answers FastCGI request `request_id` on connection `fd`
/// with a prebuilt 500 problem (carrying `x_request_id`), then lets the process die.
class CrashGuard {
public:
    CrashGuard(int fd, int request_id, const std::string &x_request_id) noexcept;
    ~CrashGuard();
    CrashGuard(const CrashGuard &) = delete;
    CrashGuard &operator=(const CrashGuard &) = delete;
};

}  // namespace shopd::host
