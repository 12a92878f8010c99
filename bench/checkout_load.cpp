// bench/checkout_load: reservations per second through nginx -> shopd -> PostgreSQL. CLIENTS
// concurrent clients (one thread and one keep-alive connection each), each its own customer,
// loop "add one unit of a random variant to the cart, check out" for SECONDS. Prints one JSON
// line bench/run reads (the same fields as bench/wrk_json.lua):
//   {"rps":<reservations/s>,"p50_ms":..,"p99_ms":..,"max_ms":..,"timeouts":..,"errors":..,
//    "requests":<HTTP requests>,"seconds":<elapsed>}
// p50/p99/max: the checkout call. timeouts: responses (either call) slower than 2 s, and calls
// cut off by the 30 s client timeout. errors: non-2xx responses and connect/read/write errors.
// Exit status 0 whenever it measured (errors are reported, not fatal); 1 if setup failed.
//
// Setup, all before the clock starts: a product with VARIANTS variants of ample stock (admin
// API; or the variant ids in VARIANTS_FILE, one a line, when it lists any: bench/run reuses one
// bench product, since every new product of 1000 variants skews PostgreSQL's statistics of
// variants.product_id, and product reads get re-planned per execution), and one customer per
// client: bearer tokens read from TOKENS_FILE (one a line; bench/run creates them through SQL) or,
// without it, created through POST /api/customers/, which nginx rate-limits per address: a 429 is
// retried after its Retry-After.
#include <curl/curl.h>
#include <rapidjson/document.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kTimeoutUs = 2'000'000;  // a response slower than this is a timeout
constexpr long kCutOffMs = 30'000;              // a call still unanswered then is abandoned

std::size_t collect(char *data, std::size_t size, std::size_t n, void *out) {
    static_cast<std::string *>(out)->append(data, size * n);
    return size * n;
}

/// One keep-alive connection to the stack.
class Client {
public:
    explicit Client(std::string base) : curl_(curl_easy_init()), base_(std::move(base)) {
        if (curl_ == nullptr) throw std::runtime_error("curl_easy_init failed");
    }
    ~Client() { curl_easy_cleanup(curl_); }
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    /// POSTs a JSON body (empty: none); returns the status (0: no response) and fills `body`.
    long post(const std::string &path, const std::string &json, const std::string &token,
              std::string &body) {
        body.clear();
        timed_out_ = false;
        retry_after_s_ = 0;
        curl_easy_reset(curl_);
        const std::string url = base_ + path;
        curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl_, CURLOPT_POST, 1L);
        curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, json.c_str());
        curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(json.size()));
        curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, kCutOffMs);
        curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
        curl_slist *headers = curl_slist_append(nullptr, "Content-Type: application/json");
        headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
        const CURLcode rc = curl_easy_perform(curl_);
        curl_slist_free_all(headers);
        if (rc != CURLE_OK) {
            timed_out_ = rc == CURLE_OPERATION_TIMEDOUT;
            return 0;
        }
        long status = 0;
        curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
        curl_off_t retry_after = 0;
        if (curl_easy_getinfo(curl_, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK)
            retry_after_s_ = static_cast<long>(retry_after);
        return status;
    }
    /// Whether the last call was cut off by the client timeout.
    bool timed_out() const { return timed_out_; }
    /// The last response's Retry-After in seconds (0: none).
    long retry_after_s() const { return retry_after_s_; }

private:
    CURL *curl_;
    std::string base_;
    bool timed_out_ = false;
    long retry_after_s_ = 0;
};

rapidjson::Document parse(const std::string &body) {
    rapidjson::Document d;
    d.Parse(body.c_str());
    if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("unexpected reply: " + body);
    return d;
}

/// Creates a category and a product with `count` variants of ample stock; returns variant ids.
std::vector<long long> make_variants(Client &admin, const std::string &token, int count,
                                     const std::string &tag) {
    std::string body;
    if (admin.post("/api/categories/", "{\"name\":\"bench-" + tag + "\"}", token, body) != 201)
        throw std::runtime_error("category: " + body);
    const auto category = parse(body)["id"].GetInt64();
    std::string product = "{\"name\":\"bench-" + tag +
                          "\",\"category_id\":" + std::to_string(category) +
                          ",\"base_price\":\"10.00\",\"variants\":[";
    for (int i = 0; i < count; ++i)
        product += (i ? "," : "") + std::string("{\"sku\":\"BENCH-") + tag + "-" +
                   std::to_string(i) +
                   "\",\"name\":\"v\",\"price_delta\":\"0.00\",\"stock\":1000000000}";
    product += "]}";
    if (admin.post("/api/products/", product, token, body) != 201)
        throw std::runtime_error("product: " + body);
    std::vector<long long> ids;
    const auto doc = parse(body);
    for (const auto &v : doc["variants"].GetArray()) ids.push_back(v["id"].GetInt64());
    return ids;
}

/// Signs a customer up through the API; a 429 (nginx's per-address limit) waits its
/// Retry-After (1 s without one) and tries again, up to a few minutes in all.
std::string make_customer(Client &admin, const std::string &token, const std::string &name) {
    std::string body;
    for (int attempt = 0; attempt < 300; ++attempt) {
        const long status =
            admin.post("/api/customers/", "{\"name\":\"" + name + "\"}", token, body);
        if (status == 201) return parse(body)["token"].GetString();
        if (status != 429) throw std::runtime_error("customer: " + body);
        std::this_thread::sleep_for(std::chrono::seconds(std::max(1L, admin.retry_after_s())));
    }
    throw std::runtime_error("customer: still rate-limited after 300 attempts");
}

std::vector<std::string> read_tokens(const std::string &path, int count) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::vector<std::string> tokens;
    for (std::string line; static_cast<int>(tokens.size()) < count && std::getline(in, line);)
        if (!line.empty()) tokens.push_back(line);
    if (static_cast<int>(tokens.size()) < count)
        throw std::runtime_error(path + " has " + std::to_string(tokens.size()) +
                                 " tokens, fewer than the " + std::to_string(count) + " clients");
    return tokens;
}

/// One connection per client plus a few: raise the soft open-files limit to the hard one.
void raise_fd_limit() {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

std::string ms(std::int64_t us) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(us / 1000),
                  static_cast<long long>(us % 1000));
    return buf;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 5) {
        std::fprintf(
            stderr,
            "usage: checkout_load URL ADMIN_TOKEN CLIENTS SECONDS [VARIANTS] [TOKENS_FILE] "
            "[VARIANTS_FILE]\n");
        return 2;
    }
    const std::string url = argv[1], admin_token = argv[2];
    const int clients = std::atoi(argv[3]), seconds = std::atoi(argv[4]);
    const int variant_count = argc > 5 ? std::atoi(argv[5]) : 1000;
    if (clients < 1 || seconds < 1 || variant_count < 1) {
        std::fprintf(stderr, "checkout_load: CLIENTS, SECONDS and VARIANTS must be positive\n");
        return 2;
    }
    raise_fd_limit();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const std::string tag = std::to_string(std::random_device{}() % 1000000000);
    std::vector<long long> variants;
    std::vector<std::string> customers;
    try {
        Client admin(url);
        if (argc > 7) {
            std::ifstream in(argv[7]);
            for (long long id = 0; in >> id;) variants.push_back(id);
        }
        if (variants.empty()) variants = make_variants(admin, admin_token, variant_count, tag);
        if (argc > 6)
            customers = read_tokens(argv[6], clients);
        else
            for (int i = 0; i < clients; ++i)
                customers.push_back(make_customer(admin, admin_token, "bench-" + tag));
    } catch (const std::exception &e) {
        std::fprintf(stderr, "setup failed: %s\n", e.what());
        return 1;
    }

    std::atomic<long> reservations{0}, requests{0}, timeouts{0}, errors{0};
    std::mutex mu;
    std::condition_variable cv;
    int ready = 0;
    bool go = false;
    Clock::time_point start, deadline;
    std::vector<std::int64_t> latencies_us;  // checkout calls only
    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(clients));
    for (int t = 0; t < clients; ++t)
        pool.emplace_back([&, t] {
            Client client(url);
            std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1u);
            std::uniform_int_distribution<std::size_t> pick(0, variants.size() - 1);
            std::vector<std::int64_t> mine;
            std::string body;
            {  // every client is ready before the clock starts
                std::unique_lock<std::mutex> lock(mu);
                ++ready;
                cv.notify_all();
                cv.wait(lock, [&] { return go; });
            }
            // One call: counts it, its timeout or error; returns its status and duration.
            auto call = [&](const std::string &path, const std::string &json, std::int64_t &us) {
                const auto t0 = Clock::now();
                const long status = client.post(path, json, customers[t], body);
                us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0)
                         .count();
                ++requests;
                if (client.timed_out() || us > kTimeoutUs)
                    ++timeouts;
                else if (status / 100 != 2)
                    ++errors;
                return status;
            };
            std::int64_t us = 0;
            while (Clock::now() < deadline) {
                const std::string item =
                    "{\"variant_id\":" + std::to_string(variants[pick(rng)]) + ",\"quantity\":1}";
                if (call("/api/cart/items/", item, us) / 100 != 2) continue;
                const long status = call("/api/cart/checkout/", "", us);
                if (!client.timed_out()) mine.push_back(us);
                if (status == 201) ++reservations;
            }
            std::lock_guard<std::mutex> lock(mu);
            latencies_us.insert(latencies_us.end(), mine.begin(), mine.end());
        });
    {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return ready == clients; });
        start = Clock::now();
        deadline = start + std::chrono::seconds(seconds);
        go = true;
        cv.notify_all();
    }
    for (auto &t : pool) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(latencies_us.begin(), latencies_us.end());
    auto pct = [&](std::size_t p) -> std::int64_t {
        return latencies_us.empty() ? 0 : latencies_us[(latencies_us.size() - 1) * p / 100];
    };
    const std::int64_t max_us = latencies_us.empty() ? 0 : latencies_us.back();
    std::printf(
        "{\"rps\":%.1f,\"p50_ms\":%s,\"p99_ms\":%s,\"max_ms\":%s,\"timeouts\":%ld,\"errors\":%ld,"
        "\"requests\":%ld,\"seconds\":%.3f}\n",
        static_cast<double>(reservations.load()) / elapsed, ms(pct(50)).c_str(),
        ms(pct(99)).c_str(), ms(max_us).c_str(), timeouts.load(), errors.load(), requests.load(),
        elapsed);
    curl_global_cleanup();
    return 0;
}
