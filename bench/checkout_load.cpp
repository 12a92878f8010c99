// bench/checkout_load: reservations per second through nginx -> shopd -> PostgreSQL. Each
// client thread is its own customer and loops "add one unit of a random variant to the cart,
// check out" for a fixed time. Prints one line bench/run parses:
//   checkout <reservations/s> <p50 ms> <p99 ms> <errors>
// Setup (a product with VARIANTS variants of ample stock, one customer per thread) goes through
// the admin API, so the stack needs nothing prepared.
#include <curl/curl.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::size_t collect(char *data, std::size_t size, std::size_t n, void *out) {
    static_cast<std::string *>(out)->append(data, size * n);
    return size * n;
}

/// One keep-alive connection to the stack.
class Client {
public:
    explicit Client(std::string base) : curl_(curl_easy_init()), base_(std::move(base)) {}
    ~Client() { curl_easy_cleanup(curl_); }

    /// POSTs a JSON body (empty: none); returns the status and fills `body`.
    long post(const std::string &path, const std::string &json, const std::string &token,
              std::string &body) {
        body.clear();
        curl_easy_reset(curl_);
        const std::string url = base_ + path;
        curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl_, CURLOPT_POST, 1L);
        curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, json.c_str());
        curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(json.size()));
        curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body);
        curl_slist *headers = curl_slist_append(nullptr, "Content-Type: application/json");
        headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
        const CURLcode rc = curl_easy_perform(curl_);
        curl_slist_free_all(headers);
        if (rc != CURLE_OK) return 0;
        long status = 0;
        curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
        return status;
    }

private:
    CURL *curl_;
    std::string base_;
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

std::string make_customer(Client &admin, const std::string &token, const std::string &name) {
    std::string body;
    if (admin.post("/api/customers/", "{\"name\":\"" + name + "\"}", token, body) != 201)
        throw std::runtime_error("customer: " + body);
    return parse(body)["token"].GetString();
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: checkout_load URL ADMIN_TOKEN THREADS SECONDS [VARIANTS]\n");
        return 2;
    }
    const std::string url = argv[1], admin_token = argv[2];
    const int threads = std::atoi(argv[3]), seconds = std::atoi(argv[4]);
    const int variant_count = argc > 5 ? std::atoi(argv[5]) : 1000;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const std::string tag = std::to_string(std::random_device{}() % 1000000000);
    std::vector<long long> variants;
    std::vector<std::string> customers;
    try {
        Client admin(url);
        variants = make_variants(admin, admin_token, variant_count, tag);
        for (int i = 0; i < threads; ++i)
            customers.push_back(make_customer(admin, admin_token, "bench-" + tag));
    } catch (const std::exception &e) {
        std::fprintf(stderr, "setup failed: %s\n", e.what());
        return 1;
    }

    std::atomic<long> reservations{0}, errors{0};
    std::mutex mu;
    std::vector<std::int64_t> latencies_us;  // checkout calls only
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            Client client(url);
            std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1u);
            std::uniform_int_distribution<std::size_t> pick(0, variants.size() - 1);
            std::vector<std::int64_t> mine;
            std::string body;
            while (Clock::now() < deadline) {
                const std::string item =
                    "{\"variant_id\":" + std::to_string(variants[pick(rng)]) + ",\"quantity\":1}";
                if (client.post("/api/cart/items/", item, customers[t], body) / 100 != 2) {
                    ++errors;
                    continue;
                }
                const auto start = Clock::now();
                const long status = client.post("/api/cart/checkout/", "", customers[t], body);
                mine.push_back(
                    std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start)
                        .count());
                if (status == 201)
                    ++reservations;
                else
                    ++errors;
            }
            std::lock_guard<std::mutex> lock(mu);
            latencies_us.insert(latencies_us.end(), mine.begin(), mine.end());
        });
    for (auto &t : pool) t.join();
    std::sort(latencies_us.begin(), latencies_us.end());
    auto pct = [&](std::size_t p) {
        return latencies_us.empty() ? 0 : latencies_us[(latencies_us.size() - 1) * p / 100];
    };
    // Integer arithmetic only: reservations per second and milliseconds with three decimals.
    std::printf("checkout %ld %lld.%03lld %lld.%03lld %ld\n", reservations.load() / seconds,
                static_cast<long long>(pct(50) / 1000), static_cast<long long>(pct(50) % 1000),
                static_cast<long long>(pct(99) / 1000), static_cast<long long>(pct(99) % 1000),
                errors.load());
    curl_global_cleanup();
    return errors.load() == 0 ? 0 : 1;
}
