// The host's log: one JSON line per event or request on stderr, written whole by one write(2)
// so lines of different threads never interleave.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shopd::host {

/// RFC 3339 UTC timestamp of now, millisecond precision.
std::string now_rfc3339();

/// One event line: {"ts","level","source","msg"}; levels 0 info, 1 warn, 2 error.
void log_line(int level, const std::string &source, const std::string &message);

/// The access-log line of one request: {"ts","level","method","path","status","ms","request_id"}
/// plus, for a problem answer, "problem" (its title) and "fields" (the invalid fields' names).
void log_request(const std::string &method, const std::string &path, int status,
                 std::int64_t micros, const std::string &request_id,
                 const std::string &problem = {}, const std::vector<std::string> &fields = {});

/// Microseconds as decimal milliseconds without floating point: 1500 -> "1.500".
std::string micros_as_ms(std::int64_t micros);

}  // namespace shopd::host
