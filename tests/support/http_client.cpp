// libcurl-based HTTP client and helpers for integration tests.
#include "http_client.hpp"

#include <sys/wait.h>

#include <cstdio>

#include <cppunit/extensions/HelperMacros.h>
#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

namespace shopd::test {
namespace {

std::size_t on_body(char *data, std::size_t size, std::size_t n, void *user) {
    static_cast<std::string *>(user)->append(data, size * n);
    return size * n;
}

std::size_t on_header(char *data, std::size_t size, std::size_t n, void *user) {
    std::string line(data, size * n);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        value.erase(value.find_last_not_of(" \t\r\n") + 1);
        (*static_cast<std::map<std::string, std::string> *>(user))[name] = value;
    }
    return size * n;
}

}  // namespace

rapidjson::Document Response::json() const {
    rapidjson::Document d;
    d.Parse(body.c_str());
    CPPUNIT_ASSERT_MESSAGE("response is not JSON: " + describe(), !d.HasParseError());
    return d;
}

std::string Response::header(const std::string &name) const {
    std::string key = name;
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    const auto it = headers.find(key);
    return it == headers.end() ? "" : it->second;
}

std::string Response::describe() const {
    return std::to_string(status) + " " + body.substr(0, 2000);
}

Http::Http() : curl_(curl_easy_init()), base_(env("SHOPD_URL")) {
    if (!curl_) throw std::runtime_error("curl_easy_init failed");
}

Http::~Http() { curl_easy_cleanup(curl_); }

Response Http::request(const std::string &method, const std::string &path, const std::string &body,
                       const std::string &token, const Headers &headers) {
    Response r;
    curl_easy_reset(curl_);
    const std::string url = path.rfind("http", 0) == 0 ? path : base_ + path;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "HEAD") curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &r.headers);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 30L);
    curl_slist *list = nullptr;
    bool has_content_type = false;
    for (const auto &[k, v] : headers) {
        list = curl_slist_append(list, (k + ": " + v).c_str());
        std::string lower = k;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        has_content_type |= lower == "content-type";
    }
    if (!body.empty()) {
        curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        if (!has_content_type) list = curl_slist_append(list, "Content-Type: application/json");
    }
    list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
    if (!token.empty()) list = curl_slist_append(list, ("Authorization: Bearer " + token).c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    const CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(list);
    if (rc != CURLE_OK)
        throw std::runtime_error(method + " " + url + ": " + curl_easy_strerror(rc));
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.status);
    return r;
}

CommandRun run_command(const std::string &command) {
    CommandRun run;
    FILE *pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) run.output.append(buf, n);
    const int status = ::pclose(pipe);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

std::string env(const char *name) {
    const char *v = std::getenv(name);
    if (!v || !*v)
        throw std::runtime_error(std::string("environment variable ") + name +
                                 " is not set (run via scripts/test)");
    return v;
}

std::string admin_token() { return env("SHOPD_ADMIN_TOKEN"); }

std::string unique(const std::string &prefix) {
    static std::atomic<unsigned> counter{0};
    static const std::string run =
        std::to_string(getpid()) + "-" + std::to_string(std::time(nullptr) % 100000);
    return prefix + "-" + run + "-" + std::to_string(++counter);
}

void assert_problem(const Response &r, long status, const char *what) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(what) + ": " + r.describe(), status, r.status);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(what) + ": content type",
                                 std::string("application/problem+json"), r.header("Content-Type"));
    const auto doc = r.json();
    CPPUNIT_ASSERT_MESSAGE(std::string(what) + ": problem fields",
                           doc.IsObject() && doc.HasMember("type") && doc.HasMember("title") &&
                               doc.HasMember("detail") && doc.HasMember("status"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(what) + ": problem status", static_cast<int>(status),
                                 doc["status"].GetInt());
    CPPUNIT_ASSERT_MESSAGE(std::string(what) + ": X-Request-Id", !r.header("X-Request-Id").empty());
}

void assert_field_error(const Response &r, const std::string &field, const std::string &what) {
    assert_problem(r, 400, what.c_str());
    const auto d = r.json();
    CPPUNIT_ASSERT_MESSAGE(
        what + ": no errors." + field + " in " + r.describe(),
        d.HasMember("errors") && d["errors"].IsObject() && d["errors"].HasMember(field.c_str()) &&
            d["errors"][field.c_str()].IsArray() && d["errors"][field.c_str()].Size() > 0);
}

}  // namespace shopd::test
