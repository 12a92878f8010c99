// Shadow mode: a candidate plugin answers the same live requests as the serving generation, in
// a process of its own that never answers a client. Workers offer each GET the shadowed plugin
// served (after the client has its answer) through a queue in shared memory; the shadow process
// runs the candidate on it and compares. See README "Rolling out a pricing plugin".
#pragma once

#include "config.hpp"
#include "shared_state.hpp"

#include "shopd/json.hpp"

#include <cstdint>
#include <string>

namespace shopd::host {

/// What a worker's dispatch learnt for the shadow: set only while the serving plugin is shadowed.
struct ShadowOffer {
    std::string plugin;   ///< "" : nothing to offer
    std::string version;  ///< of the serving generation
    std::int64_t handle_us = 0;
    bool is_admin = false;  ///< the request carried an admin token
};

/// Whether two answers are the same, each plugin's own version string aside (a quote naming
/// the engine that made it is not a difference between two engines).
bool same_answer(int status_a, const std::string &body_a, const std::string &version_a,
                 int status_b, const std::string &body_b, const std::string &version_b);

/// The "shadow" field of plugin `plugin`'s admin row: null, or the comparison so far.
void write_shadow(JsonWriter &w, const ShadowShared &shadow, const std::string &plugin);
/// The shopd_shadow_* metrics ("" while no shadow runs).
std::string render_shadow_metrics(const ShadowShared &shadow);

/// Exit status of a shadow process whose candidate could not load (not respawned).
constexpr int kExitCandidateRefused = 4;

/// The shadow process's main: loads `candidate` and compares until killed; never returns.
[[noreturn]] void run_shadow(const Config &config, SharedState &shared,
                             const ManifestEntry &candidate);

}  // namespace shopd::host
