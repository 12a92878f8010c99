// reservation-release: command-line parsing with Boost.Program_options.
#include "release_options.hpp"

#include <boost/program_options.hpp>

#include <sstream>
#include <utility>

namespace po = boost::program_options;

namespace shopd::checkout {

namespace {
/// The outcome "exit 2 with `message`".
ParsedOptions usage_error(std::string message) {
    ParsedOptions out;
    out.exit_code = 2;
    out.message = "reservation-release: " + std::move(message);
    return out;
}
}  // namespace

ParsedOptions parse_release_options(int argc, const char *const *argv, const char *env_db) {
    ParsedOptions out;
    std::string db = env_db ? env_db : "";
    // Parsed as signed numbers so "-5" is rejected by the range checks, not wrapped around.
    long long batch_size = static_cast<long long>(kDefaultBatchSize);
    long long cart_ttl = kDefaultCartTtl;
    long long idempotency_ttl = kDefaultIdempotencyTtl;
    po::options_description desc(
        "Usage: reservation-release [options]\n"
        "Marks ACTIVE reservations past expires_at as EXPIRED, gives their quantities back and\n"
        "writes one expiry_log row each; then deletes carts (with their lines) untouched for\n"
        "--cart-ttl seconds and Idempotency-Keys older than --idempotency-ttl seconds.\n"
        "Prints `released N reservations`, `purged N carts`, `purged N idempotency keys`.\n"
        "Safe next to running requests and other copies (rows in use are skipped).\n"
        "With --check it changes nothing and only verifies, in one snapshot, that every variant's\n"
        "reserved equals the quantities of its ACTIVE reservations (and 0 <= reserved <= stock):\n"
        "prints `ok: N variants checked` and exits 0, or one line per variant that is off\n"
        "(id, sku, reserved, expected) and exits 1.\nOptions");
    desc.add_options()("help", "show this help and exit")(
        "db", po::value(&db), "database URL (default: $SHOPD_DATABASE_URL)")(
        "batch-size", po::value(&batch_size)->default_value(batch_size),
        "rows released or purged per transaction (1..100000)")(
        "cart-ttl", po::value(&cart_ttl)->default_value(cart_ttl),
        "purge carts whose updated_at is older than this many seconds (0 = never)")(
        "idempotency-ttl", po::value(&idempotency_ttl)->default_value(idempotency_ttl),
        "purge Idempotency-Keys older than this many seconds (0 = never)")(
        "dry-run", po::bool_switch(&out.options.dry_run),
        "count what would be released and purged; change nothing")(
        "check", po::bool_switch(&out.options.check),
        "verify reserved against ACTIVE reservations; release and purge nothing");
    std::ostringstream usage;
    usage << desc;
    try {
        po::variables_map vm;
        // An empty positional description makes a stray word an error instead of being ignored.
        const po::positional_options_description no_positionals;
        po::store(po::command_line_parser(argc, const_cast<char **>(argv))
                      .options(desc)
                      .positional(no_positionals)
                      .run(),
                  vm);
        if (vm.count("help")) {
            out.message = usage.str();
            return out;
        }
        po::notify(vm);
    } catch (const po::error &e) {
        return usage_error(e.what() + std::string("\n") + usage.str());
    }
    if (batch_size < 1 || batch_size > static_cast<long long>(kMaxBatchSize))
        return usage_error("--batch-size must be between 1 and " + std::to_string(kMaxBatchSize));
    for (const auto &[flag, ttl] :
         {std::pair{"--cart-ttl", cart_ttl}, std::pair{"--idempotency-ttl", idempotency_ttl}})
        if (ttl < 0 || ttl > kMaxTtl)
            return usage_error(std::string(flag) + " must be between 0 (never) and " +
                               std::to_string(kMaxTtl) + " seconds");
    if (db.empty()) return usage_error("no database: pass --db or set SHOPD_DATABASE_URL");
    out.run = true;
    out.options.db = db;
    out.options.batch_size = static_cast<std::size_t>(batch_size);
    out.options.cart_ttl = cart_ttl;
    out.options.idempotency_ttl = idempotency_ttl;
    return out;
}

}  // namespace shopd::checkout
