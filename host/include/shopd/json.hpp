// JSON in and out for handlers: request-body parsing with DRF-style field validation, and
// small writer helpers so money always leaves as a two-decimal string.
#pragma once

#include "shopd/http.hpp"
#include "shopd/money.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shopd {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

/// Whether a Content-Type names JSON (application/json or application/*+json).
bool is_json_media_type(std::string_view content_type);

/// Characters (code points) in valid UTF-8 text; limits count characters as DRF's do.
std::size_t utf8_length(std::string_view text);

/// Parses a request body that must be one JSON object. Numbers are kept as their source text so
/// money and ids are never rounded through binary floating point. Throws a 400 ClientError
/// otherwise.
rapidjson::Document parse_json_object(std::string_view body);

/// Reads and validates fields of one JSON object, collecting every error before failing, so a
/// client sees all its mistakes at once (as DRF serializers report them).
class Fields {
public:
    explicit Fields(const rapidjson::Value &object, std::string prefix = "");

    /// Text of 1..max_len characters (after trimming nothing). required=false: absent -> nullopt.
    std::optional<std::string> text(const char *key, bool required, std::size_t max_len,
                                    bool allow_blank = false);
    /// A whole number in [min, max].
    std::optional<std::int64_t> integer(const char *key, bool required, std::int64_t min,
                                        std::int64_t max);
    /// A positive id; null counts as absent when not required.
    std::optional<std::int64_t> id(const char *key, bool required);
    /// Money with at most two decimals, within NUMERIC(12,2); negatives only if allowed.
    std::optional<Cents> money(const char *key, bool required, bool allow_negative);
    /// A percentage in [0, 100] with at most two decimals.
    std::optional<BasisPoints> percent(const char *key, bool required);
    /// One of the given choices.
    std::optional<std::string> choice(const char *key, bool required,
                                      std::initializer_list<const char *> choices);
    /// An array (elements validated by the caller); nullptr when absent and not required.
    const rapidjson::Value *array(const char *key, bool required);

    /// Records an error against a field (for cross-field rules).
    void error(const std::string &key, std::string message);
    bool ok() const { return errors_.empty(); }
    const FieldErrors &errors() const { return errors_; }
    /// Throws validation_failed(...) when any error was recorded.
    void check() const;

private:
    const rapidjson::Value *lookup(const char *key, bool required);
    std::optional<std::string> scalar_text(const char *key, const rapidjson::Value &v);

    const rapidjson::Value &object_;
    std::string prefix_;
    FieldErrors errors_;
};

/// Merges `from` into `into` (for nested validators).
void merge_errors(FieldErrors &into, const FieldErrors &from);

inline void put_string(JsonWriter &w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void put_money(JsonWriter &w, Cents cents) { put_string(w, format_money(cents)); }
inline void put_key(JsonWriter &w, std::string_view k) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
}

/// Runs `fill(writer)` and returns the rendered JSON text.
template <class Fill>
std::string render_json(Fill &&fill) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    fill(w);
    return std::string(buf.GetString(), buf.GetSize());
}

/// One page of a list in DRF's envelope {"count","next","previous","results"}.
template <class Item, class WriteItem>
std::string render_page(std::int64_t count, const std::optional<std::string> &next,
                        const std::optional<std::string> &previous, const std::vector<Item> &items,
                        WriteItem write_item) {
    return render_json([&](JsonWriter &w) {
        auto link = [&w](const std::optional<std::string> &url) {
            if (url)
                put_string(w, *url);
            else
                w.Null();
        };
        w.StartObject();
        put_key(w, "count");
        w.Int64(count);
        put_key(w, "next");
        link(next);
        put_key(w, "previous");
        link(previous);
        put_key(w, "results");
        w.StartArray();
        for (const auto &item : items) write_item(w, item);
        w.EndArray();
        w.EndObject();
    });
}

}  // namespace shopd
