// Adopting plugin generations in the master: copy, check in a child, publish.
#include "generations.hpp"

#include "log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace shopd::host {

namespace {

bool identify(const std::string &path, FileIdentity &out) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return false;
    out = FileIdentity{st.st_dev, st.st_ino, st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
                       st.st_size};
    return true;
}

}  // namespace

Generations::Generations(std::string plugin_dir, std::vector<std::string> names,
                         const std::string &parent, std::string database_url)
    : plugin_dir_(std::move(plugin_dir)), names_(std::move(names)),
      database_url_(std::move(database_url)) {
    const fs::path base = parent.empty() ? fs::temp_directory_path() : fs::path(parent);
    std::error_code ec;
    fs::create_directories(base, ec);
    std::string tmpl = (base / "shopd-plugins-XXXXXX").string();
    if (!mkdtemp(tmpl.data()))
        throw std::runtime_error("cannot create a plugin generation directory in " + base.string() +
                                 ": " + std::strerror(errno));
    dir_ = tmpl;
}

Generations::~Generations() { remove_dir(); }

std::string Generations::source_of(const std::string &name) const {
    return (fs::path(plugin_dir_) / (name + ".so")).string();
}

void Generations::remove_dir() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
}

bool Generations::stage(const std::string &name, const std::string &file, ManifestEntry &entry,
                        std::string &error) {
    const std::uint64_t serial = ++serial_;
    const std::string copy = dir_ + "/" + name + "." + std::to_string(serial) + ".so";
    std::error_code ec;
    fs::copy_file(file, copy, fs::copy_options::overwrite_existing, ec);
    if (ec) {
        error = file + ": copy failed: " + ec.message();
        return false;
    }
    const CheckResult check = check_in_child(copy, name, 5000, database_url_);
    if (!check.ok) {
        fs::remove(copy, ec);
        error = file + ": " + check.error;
        return false;
    }
    entry = ManifestEntry{};
    copy_text(entry.name, name);
    copy_text(entry.source, file);
    copy_text(entry.copy, copy);
    copy_text(entry.version, check.version);
    copy_text(entry.loaded_at, now_rfc3339());
    entry.abi = check.abi;
    entry.serial = serial;
    return true;
}

void Generations::make_current(const std::string &name, ManifestEntry &entry,
                               const FileIdentity &id) {
    Adopted &a = adopted_[name];
    std::error_code ec;
    if (a.previous.serial != 0) fs::remove(a.previous.copy, ec);
    a.previous = a.current;
    copy_text(entry.previous_version, a.previous.serial != 0 ? a.previous.version : "");
    a.current = entry;
    a.id = id;
}

bool Generations::adopt(const std::string &name, ManifestEntry &entry, std::string &error) {
    const std::string source = source_of(name);
    FileIdentity id;
    if (!identify(source, id)) {
        error = source + ": " + std::strerror(errno);
        return false;
    }
    if (!stage(name, source, entry, error)) return false;
    make_current(name, entry, id);
    return true;
}

void Generations::drop_candidate(const ManifestEntry &candidate) {
    std::error_code ec;
    if (candidate.serial != 0) fs::remove(candidate.copy, ec);
}

bool Generations::promote_candidate(const ManifestEntry &candidate, ManifestEntry &entry,
                                    std::string &note) {
    const std::string name = candidate.name;
    const std::string source = source_of(name);
    // Installed over the configured file (a rename: a reader sees the old or the new file),
    // so a restart serves it too. Without write access it serves until the next restart.
    const std::string temp = source + ".promote-" + std::to_string(getpid());
    std::error_code ec;
    fs::copy_file(candidate.copy, temp, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(temp, source, ec);
    FileIdentity id = adopted_[name].id;  // failed: the old file stays "already adopted"
    if (ec) {
        fs::remove(temp, ec);
        note = "; could not install it as " + source + " (" + ec.message() +
               "): copy the file there to keep it after a restart";
    } else if (!identify(source, id)) {
        note = "; " + source + ": " + std::strerror(errno);
    }
    entry = candidate;
    copy_text(entry.source, source);
    copy_text(entry.loaded_at, now_rfc3339());
    make_current(name, entry, id);
    return true;
}

bool Generations::revert(const std::string &name, ManifestEntry &entry) {
    const auto it = adopted_.find(name);
    if (it == adopted_.end() || it->second.previous.serial == 0) return false;
    Adopted &a = it->second;
    std::error_code ec;
    fs::remove(a.current.copy, ec);
    a.current = a.previous;
    a.previous = ManifestEntry{};
    a.current.previous_version[0] = '\0';  // one step back only: the refused file is gone
    entry = a.current;
    return true;
}

ReloadRecord Generations::refresh(Manifest &manifest) {
    ReloadRecord record{};
    bool changed = false;
    manifest.count = static_cast<std::uint32_t>(names_.size());
    for (std::size_t i = 0; i < names_.size() && i < kMaxPlugins; ++i) {
        const std::string &name = names_[i];
        auto &verdict = record.plugins[record.count++];
        copy_text(verdict.name, name);
        const auto known = adopted_.find(name);
        FileIdentity id;
        if (known != adopted_.end() && identify(source_of(name), id) && id == known->second.id) {
            copy_text(verdict.outcome, "unchanged");
            continue;
        }
        std::string error;
        if (adopt(name, manifest.entries[i], error)) {
            copy_text(verdict.outcome, "reloaded");
            changed = true;
        } else {
            copy_text(verdict.outcome, "refused");
            copy_text(verdict.reason, error);
            log_line(2, "master", "plugin refused: " + error);
        }
    }
    if (changed) ++manifest.generation;
    return record;
}

namespace {
void mark_refused(ReloadRecord &record, const std::string &name, const std::string &why) {
    for (std::uint32_t i = 0; i < record.count; ++i)
        if (name == record.plugins[i].name) {
            copy_text(record.plugins[i].outcome, "refused");
            copy_text(record.plugins[i].reason, why);
        }
}
}  // namespace

bool Generations::revert_refused(Manifest &manifest, ReloadRecord &record,
                                 const std::vector<WorkerReport> &reports) {
    bool any = false;
    for (std::uint32_t e = 0; e < manifest.count; ++e)
        for (const auto &r : reports)
            for (std::uint32_t p = 0; p < r.plugin_count; ++p) {
                if (r.plugins[p].refused_serial != manifest.entries[e].serial) continue;
                const std::string name = manifest.entries[e].name;
                const std::string why = "worker pid " + std::to_string(r.pid) + " refused " + name +
                                        ": " + r.plugins[p].error;
                log_line(2, "master", why + "; reverting to the previous generation");
                if (!revert(name, manifest.entries[e])) continue;
                mark_refused(record, name, why);
                any = true;
            }
    if (any) ++manifest.generation;
    return any;
}

bool Generations::revert_reloaded(Manifest &manifest, ReloadRecord &record,
                                  const std::string &why) {
    bool any = false;
    for (std::uint32_t i = 0; i < record.count; ++i) {
        const std::string name = record.plugins[i].name;
        if (std::string(record.plugins[i].outcome) != "reloaded") continue;
        for (std::uint32_t e = 0; e < manifest.count; ++e)
            if (name == manifest.entries[e].name && revert(name, manifest.entries[e])) {
                std::string message = name;
                message.append(": ").append(why).append("; reverting to the previous generation");
                log_line(2, "master", message);
                mark_refused(record, name, why);
                any = true;
            }
    }
    if (any) ++manifest.generation;
    return any;
}

}  // namespace shopd::host
