// The master's binary upgrade in place (upgrade.hpp).
#include "upgrade.hpp"

#include "log.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

namespace shopd::host::upgrade {
namespace {

constexpr const char *kOldWorkers = "SHOPD_UPGRADE_OLD_WORKERS";
constexpr const char *kOldDir = "SHOPD_UPGRADE_OLD_DIR";

std::string g_exe;
std::vector<std::string> g_args;  // argv[1..]

std::vector<char *> argv_of(std::vector<std::string> &args) {
    std::vector<char *> v;
    v.reserve(args.size() + 1);
    for (auto &a : args) v.push_back(a.data());
    v.push_back(nullptr);
    return v;
}

/// `exe --check-config ARGS`, its report going to our stderr (the log); true when it passes.
bool check_new(std::string &why) {
    std::vector<std::string> args{g_exe, "--check-config"};
    args.insert(args.end(), g_args.begin(), g_args.end());
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execv(g_exe.c_str(), argv_of(args).data());
        _exit(127);
    }
    if (pid < 0) {
        why = std::string("fork: ") + std::strerror(errno);
        return false;
    }
    int status = 0;
    for (int i = 0; i < 600; ++i) {  // 60 s
        if (waitpid(pid, &status, WNOHANG) == pid) {
            const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (!ok)
                why = g_exe + " --check-config failed (exit status " +
                      std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128) + ")";
            return ok;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    why = g_exe + " --check-config did not finish within 60 s";
    return false;
}

}  // namespace

void remember(int argc, char **argv) {
    char buf[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    g_exe = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string(argv[0]);
    g_args.assign(argv + 1, argv + argc);
}

void exec_new(int listen_fd, const std::vector<pid_t> &workers, const std::string &generation_dir) {
    log_line(0, "master", "SIGUSR2: upgrading to " + g_exe);
    std::string why;
    if (!check_new(why)) {
        log_line(2, "master", "upgrade refused, still serving: " + why);
        return;
    }
    std::string pids;
    for (const pid_t p : workers)
        if (p > 0) pids += (pids.empty() ? "" : ",") + std::to_string(p);
    // The socket goes over as fd 3 (SD_LISTEN_FDS_START); what fd 3 was is restored on failure.
    const int saved = fcntl(3, F_DUPFD_CLOEXEC, 10);
    if (listen_fd != 3 ? dup2(listen_fd, 3) != 3
                       : fcntl(3, F_SETFD, fcntl(3, F_GETFD) & ~FD_CLOEXEC) != 0) {
        log_line(2, "master",
                 std::string("upgrade failed, still serving: fd 3: ") + std::strerror(errno));
    } else {
        setenv("LISTEN_FDS", "1", 1);
        setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
        unsetenv("LISTEN_FDNAMES");
        setenv(kOldWorkers, pids.c_str(), 1);
        setenv(kOldDir, generation_dir.c_str(), 1);
        std::vector<std::string> args{g_exe};
        args.insert(args.end(), g_args.begin(), g_args.end());
        log_line(0, "master", "re-executing in place; old workers " + pids + " serve meanwhile");
        execv(g_exe.c_str(), argv_of(args).data());
        log_line(2, "master",
                 "upgrade failed, still serving: exec " + g_exe + ": " + std::strerror(errno));
        for (const char *v : {"LISTEN_FDS", "LISTEN_PID", kOldWorkers, kOldDir}) unsetenv(v);
    }
    if (listen_fd != 3) {
        if (saved >= 0)
            dup2(saved, 3);
        else
            close(3);
    }
    if (saved >= 0) close(saved);
}

OldWorkers::OldWorkers() {
    const char *pids = std::getenv(kOldWorkers);
    const char *dir = std::getenv(kOldDir);
    if (pids) {
        std::stringstream in(pids);
        std::string item;
        while (std::getline(in, item, ','))
            if (!item.empty())
                pids_.push_back(static_cast<pid_t>(std::strtol(item.c_str(), nullptr, 10)));
    }
    if (dir) dir_ = dir;
    unsetenv(kOldWorkers);
    unsetenv(kOldDir);
}

void OldWorkers::tick(bool ready) {
    if (pids_.empty() || !ready) return;
    if (!signalled_) {
        signalled_ = true;
        deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (const pid_t p : pids_) kill(p, SIGUSR2);  // a gentle drain (drain::set_gentle)
        log_line(0, "master", "upgrade: new workers ready; draining the old ones");
    }
    // Gone once the master reaped them (they are its children: the pid was kept).
    pids_.erase(std::remove_if(pids_.begin(), pids_.end(),
                               [](pid_t p) { return kill(p, 0) != 0 && errno == ESRCH; }),
                pids_.end());
    if (!pids_.empty() && std::chrono::steady_clock::now() > deadline_) {
        for (const pid_t p : pids_) kill(p, SIGKILL);
        log_line(1, "master", "upgrade: old workers left after 10 s: killed");
        deadline_ = std::chrono::steady_clock::now() + std::chrono::hours(1);
    }
    if (!pids_.empty()) return;
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
    log_line(0, "master", "upgrade complete: old workers stopped");
}

}  // namespace shopd::host::upgrade

namespace shopd::host::drain {
namespace {

using Clock = std::chrono::steady_clock;

/// Per fd: when it was parked (steady-clock ticks), 0 while a thread serves it or it is closed.
/// Lock-free and allocation-free: parked()/taken() run twice per request on every thread, the
/// scan only while draining. Whoever swaps a slot to 0 owns the fd (a serving thread or the
/// drain, never both). Sized once to the open-files limit; an fd beyond it is not tracked.
std::atomic<std::int64_t> *g_parked = nullptr;
std::size_t g_slots = 0;
std::once_flag g_init;
std::mutex g_drain_mu;           // one close_idle() at a time
Clock::time_point g_draining{};  // first close_idle()
std::atomic<bool> g_gentle{false};

/// While nginx keeps reusing a connection (the most recently used first), closing it races with
/// its next request; one idle this long has fallen behind in nginx's cache. After kAllIdle of
/// draining, every idle one goes (the old workers must be gone within 10 s).
constexpr auto kColdAfter = std::chrono::milliseconds(250);
constexpr auto kAllIdle = std::chrono::seconds(5);

std::atomic<std::int64_t> *slot(int fd) {
    std::call_once(g_init, [] {
        rlimit rl{};
        g_slots = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                      ? static_cast<std::size_t>(rl.rlim_cur)
                      : 65536;
        // Anonymous pages: zero until written, so only slots of fds in use cost memory.
        void *mem = mmap(nullptr, g_slots * sizeof(std::atomic<std::int64_t>),
                         PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED)
            g_slots = 0;  // then nothing is tracked: drains close at exit
        else
            g_parked = static_cast<std::atomic<std::int64_t> *>(mem);
    });
    return fd >= 0 && static_cast<std::size_t>(fd) < g_slots ? &g_parked[fd] : nullptr;
}

}  // namespace

void parked(int fd) {
    if (auto *s = slot(fd))
        s->store(std::max<std::int64_t>(1, Clock::now().time_since_epoch().count()));
}

bool taken(int fd) {
    auto *s = slot(fd);
    return !s || s->exchange(0) != 0;
}

void set_gentle() { g_gentle = true; }

bool gentle() { return g_gentle; }

std::size_t close_idle() {
    const std::lock_guard<std::mutex> lock(g_drain_mu);
    (void)slot(0);
    const auto now = Clock::now();
    if (g_draining == Clock::time_point{}) g_draining = now;
    const auto cold =
        g_gentle && now - g_draining < kAllIdle ? kColdAfter : Clock::duration::zero();
    std::size_t left = 0;
    for (std::size_t fd = 0; fd < g_slots; ++fd) {
        std::int64_t since = g_parked[fd].load();
        if (since == 0) continue;
        char byte = 0;
        const ssize_t n = recv(static_cast<int>(fd), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        const bool eof = n == 0;
        const bool idle = eof || now - Clock::time_point(Clock::duration(since)) >= cold;
        const bool request =
            n > 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EBADF);
        // A request waiting is left to the thread epoll hands it to; an idle (or closed by
        // nginx) one is closed, if no thread took it meanwhile: nginx drops it from its cache.
        if (!idle || request || !g_parked[fd].compare_exchange_strong(since, 0)) {
            left += g_parked[fd].load() != 0;
            continue;
        }
        close(static_cast<int>(fd));
    }
    return left;
}

}  // namespace shopd::host::drain
