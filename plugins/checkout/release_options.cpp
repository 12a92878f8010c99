// reservation-release: command-line parsing with Boost.Program_options.
#include "release_options.hpp"

#include <boost/program_options.hpp>

#include <sstream>

namespace po = boost::program_options;

namespace shopd::checkout {

ParsedOptions parse_release_options(int argc, const char *const *argv, const char *env_db) {
    ParsedOptions out;
    std::string db = env_db ? env_db : "";
    // Parsed as a signed number so "-5" is rejected by the range check, not wrapped around.
    long long batch_size = static_cast<long long>(kDefaultBatchSize);
    po::options_description desc(
        "Usage: reservation-release [options]\n"
        "Marks ACTIVE reservations past expires_at as EXPIRED, gives their quantities back and\n"
        "writes one expiry_log row each. Safe next to checkouts and other copies.\nOptions");
    desc.add_options()("help", "show this help and exit")(
        "db", po::value(&db), "database URL (default: $SHOPD_DATABASE_URL)")(
        "batch-size", po::value(&batch_size)->default_value(batch_size),
        "reservations released per transaction (1..100000)")(
        "dry-run", po::bool_switch(&out.options.dry_run),
        "count what would be released; change nothing");
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
        out.exit_code = 2;
        out.message = std::string("reservation-release: ") + e.what() + "\n" + usage.str();
        return out;
    }
    if (batch_size < 1 || batch_size > static_cast<long long>(kMaxBatchSize)) {
        out.exit_code = 2;
        out.message = "reservation-release: --batch-size must be between 1 and " +
                      std::to_string(kMaxBatchSize);
        return out;
    }
    if (db.empty()) {
        out.exit_code = 2;
        out.message = "reservation-release: no database: pass --db or set SHOPD_DATABASE_URL";
        return out;
    }
    out.run = true;
    out.options.db = db;
    out.options.batch_size = static_cast<std::size_t>(batch_size);
    return out;
}

}  // namespace shopd::checkout
