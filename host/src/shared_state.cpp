// The shared mapping of the master and its workers.
#include "shared_state.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <new>
#include <stdexcept>

namespace shopd::host {

SharedState *SharedState::create() {
    void *mem = mmap(nullptr, sizeof(SharedState), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        throw std::runtime_error(std::string("cannot map shared state: ") + std::strerror(errno));
    // Never unmapped: it lives as long as the processes that share it.
    return new (mem) SharedState();
}

std::vector<WorkerReport> SharedState::live_workers() const {
    std::vector<WorkerReport> out;
    for (const auto &w : workers) {
        WorkerReport r{};
        w.read(r);
        if (r.pid != 0) out.push_back(r);
    }
    return out;
}

}  // namespace shopd::host
