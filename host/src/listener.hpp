// The listening socket: opened once by the master and inherited by every worker process, which
// all accept from it (the kernel hands each new connection to one of them).
#pragma once

#include <string>

namespace shopd::host {

/// Opens `listen` ("unix:/path" or "host:port"), non-blocking; a unix socket gets `mode`.
/// Returns the fd, or -1 with the reason in `error`.
int open_listener(const std::string &listen, unsigned mode, std::string &error);

/// The listening socket passed by systemd's socket activation (LISTEN_FDS/LISTEN_PID, one
/// stream socket; also how an upgraded executable gets the old one's), made ready like
/// open_listener's. -1 when none was passed, -2 with the reason in `error` when it is unusable.
/// Clears LISTEN_* from the environment (workers must not take it for theirs).
int inherited_listener(std::string &error);

}  // namespace shopd::host
