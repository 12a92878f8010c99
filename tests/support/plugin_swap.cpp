// Hot swap of a plugin in the running stack (see plugin_swap.hpp).
#include "plugin_swap.hpp"

#include <cppunit/extensions/HelperMacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace shopd::test {
namespace {

std::string str(const rapidjson::Value &v) {
    return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : std::string();
}

}  // namespace

void install_plugin(const std::string &so, const std::string &name) {
    const fs::path dir = env("SHOPD_PLUGIN_DIR");
    const fs::path tmp = dir / ("." + name + ".so.new-" + std::to_string(getpid()));
    fs::copy_file(so, tmp, fs::copy_options::overwrite_existing);
    if (std::rename(tmp.c_str(), (dir / (name + ".so")).c_str()) != 0) {
        const std::string why = std::strerror(errno);
        fs::remove(tmp);
        throw std::runtime_error("rename " + tmp.string() + ": " + why);
    }
}

rapidjson::Document reload_plugins(Http &admin) {
    const auto r = admin.post("/api/admin/plugins/reload/", "", admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE("reload: " + r.describe(), 200L, r.status);
    auto d = r.json();
    CPPUNIT_ASSERT_MESSAGE("reload outcome: " + r.describe(),
                           d.IsObject() && d.HasMember("reloaded") && d["reloaded"].IsArray() &&
                               d.HasMember("refused") && d["refused"].IsArray());
    return d;
}

bool lists_name(const rapidjson::Value &names, const std::string &name) {
    if (!names.IsArray()) return false;
    for (const auto &n : names.GetArray())
        if (str(n) == name) return true;
    return false;
}

std::string refusal_of(const rapidjson::Value &outcome, const std::string &name) {
    if (!outcome.IsObject() || !outcome.HasMember("refused") || !outcome["refused"].IsArray())
        return "";
    for (const auto &r : outcome["refused"].GetArray())
        if (r.IsObject() && r.HasMember("name") && str(r["name"]) == name)
            return r.HasMember("error") ? str(r["error"]) : "(no error given)";
    return "";
}

std::string plugin_version(Http &admin, const std::string &name) {
    const auto r = admin.get("/api/admin/plugins/", admin_token());
    CPPUNIT_ASSERT_EQUAL_MESSAGE("plugin list: " + r.describe(), 200L, r.status);
    const auto d = r.json();
    CPPUNIT_ASSERT_MESSAGE("plugin list: " + r.describe(), d.IsArray());
    for (const auto &p : d.GetArray())
        if (p.IsObject() && p.HasMember("name") && str(p["name"]) == name && p.HasMember("version"))
            return str(p["version"]);
    return "";
}

PluginRestore::~PluginRestore() {
    if (done_) return;
    try {
        install_plugin(so_, name_);
        Http admin;
        admin.post("/api/admin/plugins/reload/", "", admin_token());
    } catch (...) {}
}

rapidjson::Document PluginRestore::restore(Http &admin) {
    install_plugin(so_, name_);
    done_ = true;  // installed: from here a reload by anyone brings it back
    auto out = reload_plugins(admin);
    CPPUNIT_ASSERT_MESSAGE(name_ + " not reloaded from " + so_ + ": " + refusal_of(out, name_),
                           lists_name(out["reloaded"], name_));
    return out;
}

}  // namespace shopd::test
