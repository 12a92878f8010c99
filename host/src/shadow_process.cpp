// The shadow process: forked by the master, it loads only the candidate generation and runs it
// on the requests the workers served, comparing answers. It has no client connection: whatever
// the candidate does (throw, hang, crash) reaches no client; a crash ends this process, which
// the master counts and starts again.
#include "fcgi_io.hpp"
#include "host_api.hpp"
#include "log.hpp"
#include "shadow.hpp"
#include "worker_db.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <mutex>
#include <thread>
#include <vector>

namespace shopd::host {
namespace {

using Clock = std::chrono::steady_clock;

class Comparer {
public:
    Comparer(const Config &config, ShadowShared &shadow, std::shared_ptr<const Snapshot> snap,
             std::uint64_t serial, std::string name)
        : config_(config), shadow_(shadow), snap_(std::move(snap)), serial_(serial),
          name_(std::move(name)) {}

    /// One thread's loop: take a served request, run the candidate on it, compare.
    void loop() {
        WorkerDb db(config_.database_url, config_.lock_timeout_ms, config_.statement_timeout_ms);
        ShadowJob job{};
        for (;;) {
            if (!shadow_.queue.pop(job)) {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                continue;
            }
            if (job.serial != serial_) continue;  // offered to an earlier shadow
            shadow_.stats.in_flight.fetch_add(1);
            compare(job, db);
            shadow_.stats.in_flight.fetch_sub(1);
        }
    }

private:
    void compare(const ShadowJob &job, WorkerDb &db) {
        Incoming in;
        in.method = job.method;
        in.path = job.path;
        in.query = job.query;
        in.base_url = job.base_url;
        in.request_id = "shadow";
        const Match m = snap_->router.match(in.method, in.path);
        if (m.status != MatchStatus::found || snap_->plugins[m.route->owner]->name != name_) {
            shadow_.stats.failed.fetch_add(1);  // the candidate lacks the route
            return;
        }
        std::vector<const char *> params;
        for (const auto &p : m.params) params.push_back(p.c_str());
        HostRequest hr{snap_};
        shopd_request req = plugin_request(in, params, job.is_admin, hr);
        req.db = db.get();
        shopd_response resp;
        const LoadedPlugin &candidate = *snap_->plugins[m.route->owner];
        const auto start = Clock::now();
        candidate.handle(m.route->id, req, resp);
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
        if (hr.connection_lost) db.reset();
        shadow_.stats.serving_us.add(job.served_us);
        shadow_.stats.candidate_us.add(micros);
        const std::string served(job.served_body, job.served_len);
        if (!same_answer(job.served_status, served, job.served_version, resp.status, resp.body,
                         candidate.desc->version)) {
            shadow_.stats.differing.fetch_add(1);
            keep_example(job, served, resp);
        }
        shadow_.stats.compared.fetch_add(1);  // last: a reader that sees it sees the rest
    }

    /// The first few differences, for the report.
    void keep_example(const ShadowJob &job, const std::string &served, const shopd_response &r) {
        const std::lock_guard<std::mutex> lock(examples_mu_);
        ShadowExamples ex{};
        shadow_.stats.examples.read(ex);
        if (ex.count >= std::size(ex.items)) return;
        std::string request = std::string(job.method) + " " + job.path;
        if (job.query[0] != '\0') request.append("?").append(job.query);
        for (std::uint32_t i = 0; i < ex.count; ++i)
            if (request == ex.items[i].request) return;  // one example per distinct request
        ShadowExample &e = ex.items[ex.count++];
        copy_text(e.request, request);
        e.serving_status = job.served_status;
        copy_text(e.serving, served);
        e.candidate_status = r.status;
        copy_text(e.candidate, r.body);
        shadow_.stats.examples.write(ex);
    }

    const Config &config_;
    ShadowShared &shadow_;
    const std::shared_ptr<const Snapshot> snap_;
    const std::uint64_t serial_;
    const std::string name_;
    std::mutex examples_mu_;
};

}  // namespace

void run_shadow(const Config &config, SharedState &shared, const ManifestEntry &candidate) {
    // The master's death ends the shadow at once: it answers no one, nothing to drain.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != shared.master_pid.load()) _exit(0);
    // The master blocks its signals for sigwait(); here SIGTERM simply ends the process (a
    // master that re-executes itself passes this pid on as one of the old processes to end).
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // Workers come first for the CPU: with none to spare, the queue fills and quotes are
    // counted as skipped rather than served later (the candidate's latency then includes
    // waiting for a core: compare latencies below saturation).
    (void)setpriority(PRIO_PROCESS, 0, 19);
    install_host_globals(&config, nullptr);  // the candidate's errors stay out of /metrics
    PluginRegistry registry(host_api(),
                            [](int level, const std::string &m) { log_line(level, "shadow", m); });
    Manifest m{};
    m.generation = 1;
    m.count = 1;
    m.entries[0] = candidate;
    const ReloadOutcome outcome = registry.apply(m);
    const auto snap = registry.snapshot();
    if (!snap) {
        const std::string why = outcome.refused.empty() ? "" : outcome.refused.front().second;
        log_line(2, "shadow", "candidate " + std::string(candidate.version) + " refused: " + why);
        (void)std::fflush(stderr);
        _exit(kExitCandidateRefused);
    }
    log_line(0, "shadow",
             std::string("candidate ") + candidate.name + " " + candidate.version +
                 " loaded; comparing every served GET");
    Comparer comparer(config, shared.shadow, snap, candidate.serial, candidate.name);
    const unsigned threads = std::clamp(config.workers, 1U, 4U);
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < threads; ++i) pool.emplace_back([&comparer] { comparer.loop(); });
    for (auto &t : pool) t.join();
    _exit(0);
}

}  // namespace shopd::host
