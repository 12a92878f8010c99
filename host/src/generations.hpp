// The master's side of hot swap: which file serves for each plugin. A changed file is copied
// into the generation directory (the copy is what workers load: dlopen() caches by path, so each
// generation needs its own) and checked in a throwaway child process, because the master never
// runs plugin code; a file that passes becomes the plugin's generation in the manifest that every
// worker, also one respawned later, loads.
#pragma once

#include "shared_state.hpp"
#include "shopd/plugin.h"

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace shopd::host {

/// Identity of a plugin file on disk; a replaced (renamed-over) file gets a new one.
struct FileIdentity {
    dev_t dev = 0;
    ino_t ino = 0;
    long long mtime_ns = 0;
    off_t size = 0;
    bool operator==(const FileIdentity &o) const {
        return dev == o.dev && ino == o.ino && mtime_ns == o.mtime_ns && size == o.size;
    }
};

/// Why descriptor `d` is unacceptable to this host as plugin `name`, or "" when it is fine.
std::string check_descriptor(const shopd_plugin *d, const std::string &name);

struct CheckResult {
    bool ok = false;
    std::string version;
    unsigned abi = 0;
    std::string error;
    std::string schema;  ///< "needs 6.., the database is at 6", or why it was not checked
};

/// Loads `file` as plugin `name` in a forked child (dlopen, entry point, descriptor, a trial
/// init()) and reports what it found; a child that crashes or hangs past `timeout_ms` is a
/// refusal. With `database_url`, the schema versions the plugin declares are compared with the
/// database's (a database that does not answer is noted, not a refusal: the host starts and
/// answers 503 until it does).
CheckResult check_in_child(const std::string &file, const std::string &name, int timeout_ms,
                           const std::string &database_url = "");

class Generations {
public:
    /// `parent`: where the generation directory is made (must allow exec); "" = system temp.
    /// `database_url`: for the schema versions plugins declare ("": not checked).
    Generations(std::string plugin_dir, std::vector<std::string> names, const std::string &parent,
                std::string database_url = "");
    ~Generations();
    Generations(const Generations &) = delete;
    Generations &operator=(const Generations &) = delete;

    /// Adopts every plugin whose file changed since it was adopted, into `manifest` (generation
    /// bumped when anything changed); returns the verdict per plugin.
    ReloadRecord refresh(Manifest &manifest);
    /// Puts the generation before the current one of plugin `name` back into `entry` (a worker
    /// refused the current one); the refused file is not adopted again until it changes.
    /// False when there is none.
    bool revert(const std::string &name, ManifestEntry &entry);
    /// Reverts every plugin whose manifest generation a worker in `reports` refused, naming the
    /// worker and its reason in `record`; bumps the generation. True if any was reverted.
    bool revert_refused(Manifest &manifest, ReloadRecord &record,
                        const std::vector<WorkerReport> &reports);
    /// Reverts every plugin `record` says was reloaded (a worker died while loading them: which
    /// one is to blame is unknowable), with `why`; bumps the generation. True if any was.
    bool revert_reloaded(Manifest &manifest, ReloadRecord &record, const std::string &why);
    /// Copies and checks `file` as a generation of `name` without making it serve (a
    /// reload's adoption, a shadow's candidate); false with `error` when the check refuses it.
    bool stage(const std::string &name, const std::string &file, ManifestEntry &candidate,
               std::string &error);
    /// Removes a staged candidate that will not serve.
    void drop_candidate(const ManifestEntry &candidate);
    /// The staged `candidate` becomes the serving generation (into `entry`; the one serving
    /// now becomes the previous one), installed over the configured file when possible
    /// (`note` says when not).
    bool promote_candidate(const ManifestEntry &candidate, ManifestEntry &entry, std::string &note);
    /// Removes the generation directory (at exit).
    void remove_dir();

private:
    struct Adopted {
        FileIdentity id;  ///< of the source file last adopted (or refused by a worker)
        ManifestEntry current{};
        ManifestEntry previous{};  ///< its copy is kept: a revert (or a slow worker) needs it
    };
    bool adopt(const std::string &name, ManifestEntry &entry, std::string &error);
    void make_current(const std::string &name, ManifestEntry &entry, const FileIdentity &id);
    std::string source_of(const std::string &name) const;

    const std::string plugin_dir_;
    const std::vector<std::string> names_;
    const std::string database_url_;
    std::string dir_;
    std::map<std::string, Adopted> adopted_;
    std::uint64_t serial_ = 0;
};

}  // namespace shopd::host
