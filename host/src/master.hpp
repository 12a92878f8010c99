// The supervising master process: owns the listening socket and the plugin manifest, forks the
// worker processes, respawns one that dies (backing off when it dies at once, so a plugin that
// crashes on load cannot fork-bomb), reloads on SIGHUP and drains on SIGTERM. It never runs
// plugin code: a crash there would take every worker's supervisor down.
#pragma once

#include "config.hpp"
#include "generations.hpp"
#include "metrics.hpp"
#include "shared_state.hpp"

#include <csignal>

namespace shopd::host {

/// Forks config.processes workers serving `listen_fd` and supervises them until SIGTERM/SIGINT
/// (`signals`, blocked by the caller, are taken with sigtimedwait); returns the exit code.
/// `shared` already holds the first manifest; `metrics` is shared memory every worker writes.
int supervise(const Config &config, SharedState &shared, Generations &generations, Metrics &metrics,
              int listen_fd, const sigset_t &signals);

}  // namespace shopd::host
