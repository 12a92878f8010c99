// Pieces of a second stack that an integration test starts itself, next to the shared one that
// scripts/test runs: an nginx rendered from the template (scripts/lib.sh nginx_start) and a host
// process of our own, so a test may kill, drain or reconfigure them without touching the
// shared stack. Both stop and clean up in their destructors.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace shopd::test {

/// nginx in a temp dir, with the deployment defaults (sign-up limit 10r/s burst 20) except
/// `env_settings` ("NAME=value ..." for nginx_start), proxying to `sockets` (space separated
/// socket paths; default: the shared stack's host).
class OwnNginx {
public:
    explicit OwnNginx(const std::string &env_settings, const std::string &sockets = "");
    ~OwnNginx();
    OwnNginx(const OwnNginx &) = delete;
    OwnNginx &operator=(const OwnNginx &) = delete;

    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::string error_log() const;  ///< what nginx logged so far (which upstream failed)

private:
    void cleanup();
    std::string dir_;
    int port_ = 0;
};

/// A host (master + workers) of our own on a socket in a temp dir, with the shared stack's
/// database, plugin files and admin tokens, in a process group of its own (so a test can kill
/// it all at once). `extra` flags come last; one of the defaults given there replaces it.
class OwnHost {
public:
    explicit OwnHost(const std::vector<std::string> &extra = {});
    ~OwnHost();
    OwnHost(const OwnHost &) = delete;
    OwnHost &operator=(const OwnHost &) = delete;

    pid_t pid() const { return pid_; }  ///< the master
    std::string socket() const { return dir_ + "/shopd.sock"; }
    std::string log_file() const { return dir_ + "/shopd.log"; }
    std::string log() const;  ///< what it logged so far
    /// Sends `sig` to the master and waits up to `seconds` for it to exit; returns its wait
    /// status, or -1 if it did not exit in time.
    int signal_and_wait(int sig, int seconds);
    /// SIGKILL to the master and every worker (the process group); false if some process of
    /// the group was still there after 10 s.
    bool kill_all();

private:
    std::string dir_;
    pid_t pid_ = -1;
    bool reaped_ = false;
};

}  // namespace shopd::test
