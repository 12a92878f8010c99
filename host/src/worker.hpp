// A worker process: forked by the master, it serves with its own threads, database connections
// and loaded plugins, and reports itself in the shared state.
#pragma once

#include "config.hpp"
#include "metrics.hpp"
#include "plugins.hpp"
#include "shared_state.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace shopd::host {

struct Incoming;
struct ShadowOffer;

/// A worker's view of the supervision: the manifest, its own report, reload tickets.
class Fleet {
public:
    Fleet(SharedState &shared, std::size_t slot, PluginRegistry &registry)
        : shared_(shared), slot_(slot), registry_(registry) {}

    /// Makes the manifest's generations serve here and reports the result in this worker's slot.
    ReloadOutcome apply_manifest();
    /// Asks the master to reload changed plugin files and waits (bounded) until its decision
    /// serves in every live worker; false on timeout. `record`: the master's verdicts.
    bool request_reload(ReloadRecord &record, std::chrono::milliseconds timeout);
    /// Hands an operator's command to the master and waits (bounded) for its result; a 503
    /// result when the master does not answer in time.
    CommandResult command(const std::string &op, const std::string &name, const std::string &arg,
                          std::chrono::milliseconds timeout);
    Manifest manifest() const;
    /// Shadow mode (shadow_feed.cpp): notes in `offer` that `plugin` served a request since
    /// `started`, when it is the shadowed plugin; then hands the served request to the shadow.
    void consider_shadow(const LoadedPlugin &plugin, bool is_admin,
                         std::chrono::steady_clock::time_point started, ShadowOffer &offer) const;
    void offer_shadow(const ShadowOffer &offer, const Incoming &in,
                      const shopd_response &resp) const;
    /// The shadow mode's shared state (for the admin API and /metrics).
    const ShadowShared &shadow() const { return shared_.shadow; }
    /// Every live worker's report.
    std::vector<WorkerReport> workers() const;

private:
    void report(const ReloadOutcome &outcome, const Manifest &m);
    bool all_applied(std::uint64_t generation) const;

    SharedState &shared_;
    const std::size_t slot_;
    PluginRegistry &registry_;
};

/// Exit status of a worker whose plugins could not load (the master backs off before a respawn).
constexpr int kExitPluginsRefused = 3;

/// The worker process's main: never returns.
[[noreturn]] void run_worker(const Config &config, SharedState &shared, std::size_t slot,
                             int listen_fd, Metrics &metrics);

}  // namespace shopd::host
