// Prometheus metrics for the host.
#include "metrics.hpp"

#include <sstream>

namespace shopd::host {

std::string micros_as_seconds(std::int64_t micros) {
    std::string frac = std::to_string(micros % 1000000);
    frac.insert(0, 6 - frac.size(), '0');
    while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
    return std::to_string(micros / 1000000) + "." + frac;
}

void Metrics::observe(const std::string &route, int status, std::int64_t micros) {
    std::lock_guard<std::mutex> lock(mu_);
    ++requests_[{route, status}];
    for (std::size_t i = 0; i < kBucketsUs.size(); ++i)
        if (micros <= kBucketsUs[i]) ++buckets_[i];
    ++count_;
    sum_us_ += micros;
}

void Metrics::count_db_error(const std::string &plugin, const std::string &sqlstate) {
    std::lock_guard<std::mutex> lock(mu_);
    ++db_errors_[{plugin, sqlstate}];
}

namespace {
std::string escape_label(const std::string &v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}
}  // namespace

std::string Metrics::render(const std::vector<std::array<std::string, 3>> &plugins) const {
    std::ostringstream out;
    std::lock_guard<std::mutex> lock(mu_);
    out << "# HELP shopd_requests_total Requests served, by route pattern and status.\n"
           "# TYPE shopd_requests_total counter\n";
    for (const auto &[key, n] : requests_)
        out << "shopd_requests_total{route=\"" << escape_label(key.first) << "\",status=\""
            << key.second << "\"} " << n << "\n";
    out << "# HELP shopd_request_duration_seconds Time from request accepted to response written.\n"
           "# TYPE shopd_request_duration_seconds histogram\n";
    for (std::size_t i = 0; i < kBucketsUs.size(); ++i)
        out << "shopd_request_duration_seconds_bucket{le=\"" << micros_as_seconds(kBucketsUs[i])
            << "\"} " << buckets_[i] << "\n";
    out << "shopd_request_duration_seconds_bucket{le=\"+Inf\"} " << count_ << "\n"
        << "shopd_request_duration_seconds_sum " << micros_as_seconds(sum_us_) << "\n"
        << "shopd_request_duration_seconds_count " << count_ << "\n";
    out << "# HELP shopd_plugin_info Loaded plugin generations serving new requests.\n"
           "# TYPE shopd_plugin_info gauge\n";
    for (const auto &p : plugins)
        out << "shopd_plugin_info{name=\"" << escape_label(p[0]) << "\",version=\""
            << escape_label(p[1]) << "\",abi=\"" << escape_label(p[2]) << "\"} 1\n";
    out << "# HELP shopd_db_errors_total Database errors, by plugin and SQLSTATE.\n"
           "# TYPE shopd_db_errors_total counter\n";
    for (const auto &[key, n] : db_errors_)
        out << "shopd_db_errors_total{plugin=\"" << escape_label(key.first) << "\",sqlstate=\""
            << escape_label(key.second) << "\"} " << n << "\n";
    return out.str();
}

}  // namespace shopd::host
