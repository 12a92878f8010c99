// What the master and its worker processes share: one anonymous MAP_SHARED mapping made before
// the first fork. The master writes the plugin manifest (which generation file serves, for each
// plugin) and the outcome of the last reload; each worker writes only its own slot. No locks: a
// worker killed mid-write must not leave anything held, so every record is a seqlock (one
// writer; readers copy and retry while a write is in progress).
#pragma once

#include "seqlocked.hpp"
#include "shadow_state.hpp"

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace shopd::host {

constexpr std::size_t kMaxProcesses = 64;
constexpr std::size_t kMaxPlugins = 16;

/// One plugin's serving generation, as the master decided it.
struct ManifestEntry {
    char name[64];
    char source[512];           ///< the configured file (what operators replace)
    char copy[512];             ///< the generation's private copy, what workers dlopen()
    char version[64];           ///< as the check process read it from the descriptor
    char loaded_at[40];         ///< when the master adopted this generation (RFC 3339)
    char previous_version[64];  ///< the generation a rollback would restore ("" if none)
    std::uint32_t abi;
    std::uint64_t serial;  ///< adoption number: differs iff the generation differs
};

struct Manifest {
    std::uint64_t generation;  ///< bumped by every reload that changed an entry
    std::uint32_t count;
    ManifestEntry entries[kMaxPlugins];
};

/// The last reload's verdict per plugin, for the reload endpoint's answer.
struct ReloadRecord {
    std::uint32_t count;
    struct {
        char name[64];
        char outcome[16];  ///< "reloaded", "unchanged" or "refused"
        char reason[400];
    } plugins[kMaxPlugins];
};

/// An operator's command for the master (rollback, ...), sent by the worker that got it over
/// the admin API; one at a time (SharedState::command_owner).
struct CommandRequest {
    std::uint64_t ticket;
    char op[16];    ///< "rollback"
    char name[64];  ///< plugin
    char arg[512];
};

struct CommandResult {
    std::uint64_t ticket;  ///< the request it answers
    int status;            ///< HTTP status for the admin API: 200, 404, 409 ...
    char message[400];
};

/// One worker process, as it reports itself.
struct WorkerReport {
    pid_t pid;
    bool ready;  ///< plugins loaded, serving
    std::uint64_t applied_generation;
    struct {
        char name[64];
        std::uint64_t serial;  ///< the generation serving in this worker
        char version[64];
        std::uint64_t refused_serial;  ///< the manifest's generation, when this worker refused it
        char error[400];               ///< why ("" when fine)
    } plugins[kMaxPlugins];
    std::uint32_t plugin_count;
};

struct SharedState {
    std::atomic<pid_t> master_pid{0};
    /// Reload tickets: a worker's reload endpoint takes one and signals the master, which marks
    /// every ticket it saw before deciding as done.
    std::atomic<std::uint64_t> reload_requested{0};
    std::atomic<std::uint64_t> reload_completed{0};
    Seqlocked<Manifest> manifest;
    Seqlocked<ReloadRecord> last_reload;
    Seqlocked<WorkerReport> workers[kMaxProcesses];
    /// The worker whose command the master is working on (0: free); the master frees it when
    /// that worker dies.
    std::atomic<pid_t> command_owner{0};
    std::atomic<std::uint64_t> command_tickets{0};
    Seqlocked<CommandRequest> command;
    Seqlocked<CommandResult> command_result;
    ShadowShared shadow;  ///< shadow mode (shadow_state.hpp)

    /// Maps a zeroed SharedState shared with every process forked afterwards.
    static SharedState *create();
    /// The reports of the live workers (a slot with a pid).
    std::vector<WorkerReport> live_workers() const;
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "shared atomics need no locks");
static_assert(std::atomic<pid_t>::is_always_lock_free, "shared atomics need no locks");

}  // namespace shopd::host
