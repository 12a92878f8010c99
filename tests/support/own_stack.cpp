// A second nginx and host for tests that must not disturb the shared stack.
#include "own_stack.hpp"

#include "http_client.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace shopd::test {
namespace {

std::string make_temp_dir(const char *prefix) {
    std::string tmpl = std::string("/tmp/") + prefix + ".XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    return tmpl;
}

}  // namespace

OwnNginx::OwnNginx(const std::string &env_settings, const std::string &sockets) {
    dir_ = make_temp_dir("shopd-own-nginx");
    const std::string upstream = sockets.empty() ? "$SHOPD_VAR/run/shopd.sock" : sockets;
    const std::string cmd =
        "cd / && env -u SHOPD_NGINX_SIGNUP_RATE -u SHOPD_NGINX_SIGNUP_BURST"
        " -u SHOPD_NGINX_REAL_IP_FROM -u SHOPD_NGINX_OPS_ALLOW SHOPD_NGINX_ACCESS_LOG=off " +
        env_settings +
        " bash -c 'set -euo pipefail; source \"$SHOPD_REPO/scripts/lib.sh\";"
        " port=$(free_port \"$(nginx_port \"$SHOPD_VAR\")\");"
        " nginx_start \"$1\" \"$port\" \"$2\" 4;"
        " echo \"$port\" >\"$1/port\"' _ " +
        dir_ + " \"" + upstream + "\"";
    if (std::system(cmd.c_str()) != 0) {
        cleanup();
        throw std::runtime_error("could not start a second nginx: " + cmd);
    }
    std::ifstream in(dir_ + "/port");
    in >> port_;
    if (port_ <= 0) {
        cleanup();
        throw std::runtime_error("second nginx wrote no port");
    }
}

OwnNginx::~OwnNginx() { cleanup(); }

std::string OwnNginx::error_log() const {
    std::ifstream in(dir_ + "/log/nginx-error.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void OwnNginx::cleanup() {
    const std::string cmd =
        "cd / && bash -c 'source \"$SHOPD_REPO/scripts/lib.sh\";"
        " nginx_stop \"$1\"' _ " +
        dir_ + " && rm -rf " + dir_;
    if (std::system(cmd.c_str()) != 0) {
        // Nothing to do in a destructor; the temp dir name says where it came from.
    }
}

OwnHost::OwnHost(const std::vector<std::string> &extra) {
    dir_ = make_temp_dir("shopd-own-host");
    const std::string var = env("SHOPD_VAR");
    std::vector<std::string> args = {
        SHOPD_HOST_BINARY,         "--listen",         "unix:" + socket(),    "--database-url",
        env("SHOPD_DATABASE_URL"), "--plugin-dir",     var + "/plugins",      "--admin-token-file",
        var + "/run/admin-tokens", "--generation-dir", dir_ + "/generations",
    };
    if (const char *plugins = std::getenv("SHOPD_PLUGINS"))
        args.insert(args.end(), {"--plugins", plugins});
    // A flag in `extra` replaces the default one (a flag is given once).
    for (const auto &flag : extra) {
        const auto at = std::find(args.begin() + 1, args.end(), flag);
        if (flag.rfind("--", 0) == 0 && at != args.end() && at + 1 != args.end())
            args.erase(at, at + 2);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
        setsid();
        const std::string log = log_file();
        if (!std::freopen(log.c_str(), "a", stderr) || !std::freopen("/dev/null", "r", stdin))
            _exit(127);
        std::vector<char *> argv;
        for (auto &a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    if (pid_ < 0) throw std::runtime_error("fork failed");
    // Up when its workers serve: the log says so once per worker process.
    for (int i = 0; i < 300; ++i) {
        if (log().find("serving with") != std::string::npos) return;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            reaped_ = true;
            throw std::runtime_error("own host exited at start: " + log());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill_all();
    throw std::runtime_error("own host did not come up within 15 s: " + log());
}

OwnHost::~OwnHost() {
    kill_all();
    if (std::system(("rm -rf " + dir_).c_str()) != 0) {
        // Nothing to do in a destructor.
    }
}

std::string OwnHost::log() const {
    std::ifstream in(log_file());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

int OwnHost::signal_and_wait(int sig, int seconds) {
    if (reaped_) return -1;
    ::kill(pid_, sig);
    for (int i = 0; i < seconds * 20; ++i) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            reaped_ = true;
            return status;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
}

bool OwnHost::kill_all() {
    if (pid_ <= 0) return true;
    ::kill(-pid_, SIGKILL);  // the group: master and workers
    if (!reaped_) {
        int status = 0;
        waitpid(pid_, &status, 0);
        reaped_ = true;
    }
    // The workers were reparented: they are gone once the group is empty.
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
        gone = ::kill(-pid_, 0) != 0 && errno == ESRCH;
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    pid_ = -1;
    return gone;
}

}  // namespace shopd::test
