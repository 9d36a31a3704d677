// SPDX-License-Identifier: AGPL-3.0-or-later
#include "schema/model.hpp"

#include <array>
#include <utility>

namespace idgate::schema {
namespace {

template <typename E, std::size_t N>
std::optional<E> parse_enum(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view text) {
    for (const auto& [value, name] : table)
        if (name == text) return value;
    return std::nullopt;
}

template <typename E, std::size_t N>
std::string_view enum_name(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
    for (const auto& [v, name] : table)
        if (v == value) return name;
    return {};
}

constexpr std::array<std::pair<sso_mode, std::string_view>, 3> sso_modes{
    {{sso_mode::off, "off"}, {sso_mode::optional, "optional"}, {sso_mode::enforced, "enforced"}}};
constexpr std::array<std::pair<user_status, std::string_view>, 3> user_statuses{
    {{user_status::pending, "pending"}, {user_status::active, "active"}, {user_status::disabled, "disabled"}}};
constexpr std::array<std::pair<token_kind, std::string_view>, 2> token_kinds{
    {{token_kind::instance_admin, "instance_admin"}, {token_kind::scim, "scim"}}};

}  // namespace

std::string case_fold(std::string_view text) {
    std::string out{text};
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string_view to_string(sso_mode m) { return enum_name(sso_modes, m); }
std::optional<sso_mode> parse_sso_mode(std::string_view t) { return parse_enum(sso_modes, t); }
std::string_view to_string(user_status s) { return enum_name(user_statuses, s); }
std::optional<user_status> parse_user_status(std::string_view t) { return parse_enum(user_statuses, t); }
std::string_view to_string(token_kind k) { return enum_name(token_kinds, k); }
std::optional<token_kind> parse_token_kind(std::string_view t) { return parse_enum(token_kinds, t); }

bool is_valid_slug(std::string_view slug) {
    if (slug.empty() || slug.size() > 63 || slug.front() == '-' || slug.back() == '-') return false;
    for (char c : slug)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    return true;
}

}  // namespace idgate::schema

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace idgate::schema {
namespace {

boost::json::array multi_values_json(const std::vector<multi_value>& values) {
    boost::json::array out;
    for (const auto& v : values) {
        boost::json::object o{{"value", v.value}};
        if (!v.type.empty()) o["type"] = v.type;
        if (!v.display.empty()) o["display"] = v.display;
        if (v.primary) o["primary"] = true;
        out.push_back(std::move(o));
    }
    return out;
}

}  // namespace

std::string describe_user_changes(const user& a, const user& b) {
    boost::json::object changes;
    auto field = [&changes](std::string_view key, const auto& from, const auto& to) {
        if (from != to) changes[key] = boost::json::object{{"from", from}, {"to", to}};
    };
    field("userName", a.user_name, b.user_name);
    field("externalId", a.external_id, b.external_id);
    field("name.formatted", a.name.formatted, b.name.formatted);
    field("name.familyName", a.name.family_name, b.name.family_name);
    field("name.givenName", a.name.given_name, b.name.given_name);
    field("name.middleName", a.name.middle_name, b.name.middle_name);
    field("name.honorificPrefix", a.name.honorific_prefix, b.name.honorific_prefix);
    field("name.honorificSuffix", a.name.honorific_suffix, b.name.honorific_suffix);
    field("displayName", a.display_name, b.display_name);
    field("nickName", a.nick_name, b.nick_name);
    field("profileUrl", a.profile_url, b.profile_url);
    field("title", a.title, b.title);
    field("department", a.department, b.department);
    field("userType", a.user_type, b.user_type);
    field("preferredLanguage", a.preferred_language, b.preferred_language);
    field("locale", a.locale, b.locale);
    field("timezone", a.timezone, b.timezone);
    field("active", a.active, b.active);
    field("status", to_string(a.status), to_string(b.status));
    field("extensions", a.extensions_json, b.extensions_json);
    auto emails_a = multi_values_json(a.emails), emails_b = multi_values_json(b.emails);
    if (emails_a != emails_b) changes["emails"] = boost::json::object{{"from", emails_a}, {"to", emails_b}};
    auto phones_a = multi_values_json(a.phone_numbers), phones_b = multi_values_json(b.phone_numbers);
    if (phones_a != phones_b) changes["phoneNumbers"] = boost::json::object{{"from", phones_a}, {"to", phones_b}};
    return boost::json::serialize(changes);
}

std::string summarize_user(const user& u) {
    return boost::json::serialize(boost::json::object{{"id", u.id},
                                                      {"userName", u.user_name},
                                                      {"active", u.active},
                                                      {"status", to_string(u.status)},
                                                      {"version", u.version}});
}

}  // namespace idgate::schema
