// Checking a plugin file without running it in the checking process: dlopen() runs the file's
// static constructors, and the check calls init(), so the master checks in a forked child that
// then exits.
#include "crash_guard.hpp"
#include "generations.hpp"
#include "host_api.hpp"

#include "shopd/sdk.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <pqxx/pqxx>

#include <cerrno>
#include <cstring>

namespace shopd::host {

std::string check_descriptor(const shopd_plugin *d, const std::string &name) {
    if (!d) return "entry point returned no descriptor";
    if (d->struct_size != sizeof(shopd_plugin))
        return "descriptor size " + std::to_string(d->struct_size) +
               " != " + std::to_string(sizeof(shopd_plugin));
    if (d->abi_version != SHOPD_PLUGIN_ABI_VERSION)
        return "ABI version " + std::to_string(d->abi_version) + ", host speaks " +
               std::to_string(SHOPD_PLUGIN_ABI_VERSION);
    if (!d->build_signature || std::strcmp(d->build_signature, SHOPD_BUILD_SIGNATURE) != 0)
        return std::string("build signature \"") +
               (d->build_signature ? d->build_signature : "(null)") +
               "\" differs from the host's \"" SHOPD_BUILD_SIGNATURE "\"";
    if (!d->name || name != d->name)
        return "descriptor names plugin \"" + std::string(d->name ? d->name : "") + "\"";
    if (!d->version || !d->handle || !d->init) return "descriptor lacks version, init or handle";
    if (d->service_count > 0 && !d->serve) return "descriptor offers services but no serve()";
    return "";
}

namespace {

/// The database's schema version: the newest NNN of sql/NNN_*.sql that scripts/migrate recorded.
unsigned database_schema(const std::string &database_url) {
    pqxx::connection db(database_url);
    pqxx::nontransaction tx(db);
    return tx
        .exec(
            "SELECT coalesce(max(substring(version FROM '^[0-9]+')::int), 0) "
            "FROM schema_migrations")[0][0]
        .as<unsigned>();
}

/// "" when the database's schema is one `d` works with, else the refusal; `note` says what was
/// compared.
std::string check_schema(const shopd_plugin *d, const std::string &database_url,
                         std::string &note) {
    if (d->schema_min == 0 && d->schema_max == 0) {
        note = "declares no schema versions";
        return "";
    }
    const std::string range =
        std::to_string(d->schema_min) + ".." + (d->schema_max ? std::to_string(d->schema_max) : "");
    if (database_url.empty()) {
        note = "needs schema " + range + " (not compared: no database given)";
        return "";
    }
    unsigned v = 0;
    try {
        v = database_schema(database_url);
    } catch (const std::exception &e) {
        note = "needs schema " + range + " (not compared: the database did not answer)";
        return "";
    }
    note = "needs schema " + range + ", the database is at " + std::to_string(v);
    if (v < d->schema_min || (d->schema_max != 0 && v > d->schema_max))
        return "refused: " + note + " (run the migrations, or use a plugin built for it)";
    return "";
}

/// The check itself, in the child: "ok\n<abi>\n<version>\n<schema note>" or "error\n<reason>".
std::string check_here(const std::string &file, const std::string &name,
                       const std::string &database_url) {
    void *dl = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!dl) return std::string("error\n") + dlerror();
    const std::string symbol = name + SHOPD_PLUGIN_ENTRY_SUFFIX;
    auto entry = reinterpret_cast<shopd_plugin_entry_fn>(dlsym(dl, symbol.c_str()));
    if (!entry) return "error\nno entry point " + symbol;
    const shopd_plugin *desc = nullptr;
    try {
        desc = entry();
    } catch (...) {
        return "error\nentry point threw";
    }
    const std::string why = check_descriptor(desc, name);
    if (!why.empty()) return "error\nrefused: " + why;
    // A trial init() with the host's configuration: a plugin whose init fails, throws or
    // crashes is refused here, before any worker loads it (a worker it crashed would take its
    // in-flight requests along).
    char reason[512] = "";
    void *state = nullptr;
    try {
        if (desc->init(host_api(), &state, reason, sizeof reason) != 0)
            return std::string("error\ninit failed: ") + reason;
        if (desc->shutdown) desc->shutdown(state);
    } catch (...) {
        return "error\ninit threw";
    }
    std::string note;
    const std::string schema = check_schema(desc, database_url, note);
    if (!schema.empty()) return "error\n" + schema;
    return "ok\n" + std::to_string(desc->abi_version) + "\n" + desc->version + "\n" + note;
}

std::string read_all(int fd, int timeout_ms) {
    std::string out;
    char buf[512];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0) return out + "\n(timed out)";
        const ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace

CheckResult check_in_child(const std::string &file, const std::string &name, int timeout_ms,
                           const std::string &database_url) {
    CheckResult result;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        result.error = std::string("pipe: ") + std::strerror(errno);
        return result;
    }
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        // A crash in the plugin kills this child by its signal, as in a worker (and a sanitizer
        // build does not report the plugin's deliberate or accidental crash as the host's).
        install_crash_handlers();
        const std::string verdict = check_here(file, name, database_url);
        (void)!write(fds[1], verdict.data(), verdict.size());
        _exit(0);
    }
    close(fds[1]);
    const std::string verdict = pid < 0 ? "" : read_all(fds[0], timeout_ms);
    close(fds[0]);
    int status = 0;
    if (pid > 0) {
        kill(pid, SIGKILL);  // done or hanging: either way it has nothing more to say
        waitpid(pid, &status, 0);
    }
    if (verdict.rfind("ok\n", 0) == 0) {
        const auto nl = verdict.find('\n', 3);
        result.ok = nl != std::string::npos;
        result.abi = static_cast<unsigned>(std::stoul(verdict.substr(3, nl - 3)));
        result.version = verdict.substr(nl + 1);
        const auto note = result.version.find('\n');
        if (note != std::string::npos) {
            result.schema = result.version.substr(note + 1);
            result.version.resize(note);
        }
    } else if (verdict.rfind("error\n", 0) == 0) {
        result.error = verdict.substr(6);
    } else {
        // Under AddressSanitizer a crash ends in its report and exit status 1, not the signal.
        result.error =
            "the check process died (" +
            (WIFSIGNALED(status) ? std::string(strsignal(WTERMSIG(status)))
                                 : "exit status " + std::to_string(WEXITSTATUS(status))) +
            ")";
    }
    return result;
}

}  // namespace shopd::host
