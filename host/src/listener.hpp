// The listening socket: opened once by the master and inherited by every worker process, which
// all accept from it (the kernel hands each new connection to one of them).
#pragma once

#include <string>

namespace shopd::host {

/// Opens `listen` ("unix:/path" or "host:port"), non-blocking; a unix socket gets `mode`.
/// Returns the fd, or -1 with the reason in `error`.
int open_listener(const std::string &listen, unsigned mode, std::string &error);

}  // namespace shopd::host
