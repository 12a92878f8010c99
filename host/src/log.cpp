// The host's structured log lines.
#include "log.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace shopd::host {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Starts a line with its timestamp, level and process (master or which worker: a crash
/// report names a pid); the caller adds the rest and calls emit().
void begin_line(Writer &w, const char *level) {
    w.StartObject();
    w.Key("ts");
    w.String(now_rfc3339().c_str());
    w.Key("level");
    w.String(level);
    w.Key("pid");
    w.Int(static_cast<int>(getpid()));
}

void emit(rapidjson::StringBuffer &buf) {
    std::string line(buf.GetString(), buf.GetSize());
    line += '\n';
    (void)!write(STDERR_FILENO, line.data(), line.size());
}

void put(Writer &w, const char *key, const std::string &value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

std::string now_rfc3339() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm utc{};
    gmtime_r(&ts.tv_sec, &utc);
    char buf[40];
    const std::size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    (void)snprintf(buf + n, sizeof buf - n, ".%03ldZ", ts.tv_nsec / 1000000);
    return buf;
}

std::string micros_as_ms(std::int64_t micros) {
    std::string frac = std::to_string(micros % 1000);
    frac.insert(0, 3 - frac.size(), '0');
    return std::to_string(micros / 1000) + "." + frac;
}

void log_line(int level, const std::string &source, const std::string &message) {
    static const char *levels[] = {"info", "warn", "error"};
    rapidjson::StringBuffer buf;
    Writer w(buf);
    begin_line(w, levels[level < 0 ? 0 : level > 2 ? 2 : level]);
    put(w, "source", source);
    put(w, "msg", message);
    w.EndObject();
    emit(buf);
}

void log_request(const std::string &method, const std::string &path, int status,
                 std::int64_t micros, const std::string &request_id, const std::string &problem,
                 const std::vector<std::string> &fields) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    begin_line(w, "info");
    put(w, "method", method);
    put(w, "path", path);
    w.Key("status");
    w.Int(status);
    const std::string ms = micros_as_ms(micros);
    w.Key("ms");
    w.RawValue(ms.c_str(), ms.size(), rapidjson::kNumberType);
    put(w, "request_id", request_id);
    if (!problem.empty()) put(w, "problem", problem);
    if (!fields.empty()) {
        w.Key("fields");
        w.StartArray();
        for (const auto &f : fields)
            w.String(f.c_str(), static_cast<rapidjson::SizeType>(f.size()));
        w.EndArray();
    }
    w.EndObject();
    emit(buf);
}

}  // namespace shopd::host
