// Request-body parsing and DRF-style field validation.
#include "shopd/json.hpp"

#include <rapidjson/error/en.h>

#include <cctype>
#include <limits>

namespace shopd {

bool is_json_media_type(std::string_view ct) {
    std::string type(ct.substr(0, ct.find(';')));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    for (auto &c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string suffix = "+json";
    return type == "application/json" ||
           (type.rfind("application/", 0) == 0 && type.size() > suffix.size() &&
            type.compare(type.size() - suffix.size(), suffix.size(), suffix) == 0);
}

rapidjson::Document parse_json_object(std::string_view body) {
    rapidjson::Document doc;
    // Invalid UTF-8 is rejected here, before it can reach the database (which would refuse it).
    // Iterative parsing: a recursive parser lets 200 kB of '[' overflow a worker's stack.
    doc.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag |
              rapidjson::kParseIterativeFlag>(body.data(), body.size());
    if (doc.HasParseError()) {
        throw bad_request(std::string("JSON parse error - ") +
                          rapidjson::GetParseError_En(doc.GetParseError()) + " (at offset " +
                          std::to_string(doc.GetErrorOffset()) + ")");
    }
    if (!doc.IsObject()) throw bad_request("Expected a JSON object as the request body.");
    return doc;
}

std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (const char c : s)
        n += (static_cast<unsigned char>(c) & 0xC0) !=
             0x80;  // count every byte that starts a character
    return n;
}

Fields::Fields(const rapidjson::Value &object, std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {}

void Fields::error(const std::string &key, std::string message) {
    errors_[prefix_ + key].push_back(std::move(message));
}

void Fields::check() const {
    if (!errors_.empty()) throw validation_failed(errors_);
}

void merge_errors(FieldErrors &into, const FieldErrors &from) {
    for (const auto &[k, v] : from) into[k].insert(into[k].end(), v.begin(), v.end());
}

const rapidjson::Value *Fields::lookup(const char *key, bool required) {
    const auto it = object_.FindMember(key);
    if (it == object_.MemberEnd()) {
        if (required) error(key, "This field is required.");
        return nullptr;
    }
    if (it->value.IsNull()) {
        if (required) error(key, "This field may not be null.");
        return nullptr;
    }
    return &it->value;
}

std::optional<std::string> Fields::scalar_text(const char *key, const rapidjson::Value &v) {
    // Numbers arrive as strings (kParseNumbersAsStringsFlag); objects, arrays and booleans are
    // never valid scalars here.
    if (!v.IsString()) {
        error(key, "Expected a string or a number.");
        return std::nullopt;
    }
    return std::string(v.GetString(), v.GetStringLength());
}

std::optional<std::string> Fields::text(const char *key, bool required, std::size_t max_len,
                                        bool allow_blank) {
    const auto *v = lookup(key, required);
    if (!v) return std::nullopt;
    if (!v->IsString()) {
        error(key, "Not a valid string.");
        return std::nullopt;
    }
    std::string s(v->GetString(), v->GetStringLength());
    if (s.find('\0') != std::string::npos) {
        error(key, "Null characters are not allowed.");
        return std::nullopt;
    }
    if (!allow_blank && s.find_first_not_of(" \t\r\n") == std::string::npos) {
        error(key, "This field may not be blank.");
        return std::nullopt;
    }
    if (utf8_length(s) > max_len) {
        error(key,
              "Ensure this field has no more than " + std::to_string(max_len) + " characters.");
        return std::nullopt;
    }
    return s;
}

std::optional<std::int64_t> Fields::integer(const char *key, bool required, std::int64_t min,
                                            std::int64_t max) {
    const auto *v = lookup(key, required);
    if (!v) return std::nullopt;
    const auto s = scalar_text(key, *v);
    if (!s) return std::nullopt;
    const auto n = parse_int(*s, std::numeric_limits<std::int64_t>::min() / 10,
                             std::numeric_limits<std::int64_t>::max() / 10);
    if (!n) {
        error(key, "A valid integer is required.");
        return std::nullopt;
    }
    if (*n < min) {
        error(key, "Ensure this value is greater than or equal to " + std::to_string(min) + ".");
        return std::nullopt;
    }
    if (*n > max) {
        error(key, "Ensure this value is less than or equal to " + std::to_string(max) + ".");
        return std::nullopt;
    }
    return n;
}

std::optional<std::int64_t> Fields::id(const char *key, bool required) {
    const auto *v = lookup(key, required);
    if (!v) return std::nullopt;
    const auto s = scalar_text(key, *v);
    if (!s) return std::nullopt;
    const auto n = parse_id(*s);
    if (!n) {
        error(key, "A valid positive integer id is required.");
        return std::nullopt;
    }
    return n;
}

std::optional<Cents> Fields::money(const char *key, bool required, bool allow_negative) {
    const auto *v = lookup(key, required);
    if (!v) return std::nullopt;
    const auto s = scalar_text(key, *v);
    if (!s) return std::nullopt;
    const auto c = parse_money(*s);
    if (!c) {
        error(key,
              "A valid decimal with at most 10 digits before and 2 after the point is required.");
        return std::nullopt;
    }
    if (!allow_negative && *c < 0) {
        error(key, "Ensure this value is greater than or equal to 0.");
        return std::nullopt;
    }
    return c;
}

std::optional<BasisPoints> Fields::percent(const char *key, bool required) {
    const auto *v = lookup(key, required);
    if (!v) return std::nullopt;
    const auto s = scalar_text(key, *v);
    if (!s) return std::nullopt;
    const auto bp = parse_percent(*s);
    if (!bp) {
        error(key, "A decimal between 0 and 100 with at most 2 decimal places is required.");
        return std::nullopt;
    }
    return bp;
}

std::optional<std::string> Fields::choice(const char *key, bool required,
                                          std::initializer_list<const char *> choices) {
    const auto *v = lookup(key, required);
    if (!v) return std::nullopt;
    if (v->IsString()) {
        const std::string s(v->GetString(), v->GetStringLength());
        for (const char *c : choices)
            if (s == c) return s;
    }
    std::string msg = "Not a valid choice; expected one of:";
    for (const char *c : choices) msg += std::string(" ") + c;
    error(key, msg + ".");
    return std::nullopt;
}

const rapidjson::Value *Fields::array(const char *key, bool required) {
    const auto *v = lookup(key, required);
    if (!v) return nullptr;
    if (!v->IsArray()) {
        error(key, "Expected a list of items.");
        return nullptr;
    }
    return v;
}

}  // namespace shopd
