// SPDX-License-Identifier: AGPL-3.0-or-later
#include "schema/account.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <utility>

namespace idgate::schema {
namespace {

constexpr std::array<std::pair<system_role, std::string_view>, 5> role_names{{{system_role::guest, "guest"},
                                                                             {system_role::member, "member"},
                                                                             {system_role::manager, "manager"},
                                                                             {system_role::admin, "admin"},
                                                                             {system_role::super_admin, "super_admin"}}};

}  // namespace

std::string_view to_string(system_role r) {
    for (const auto& [value, name] : role_names)
        if (value == r) return name;
    return "member";
}

std::optional<system_role> parse_system_role(std::string_view text) {
    for (const auto& [value, name] : role_names)
        if (name == text) return value;
    return std::nullopt;
}

std::string_view to_string(scope_kind k) { return k == scope_kind::project ? "project" : "workspace"; }

std::optional<scope_kind> parse_scope_kind(std::string_view text) {
    if (text == "workspace") return scope_kind::workspace;
    if (text == "project") return scope_kind::project;
    return std::nullopt;
}

std::string_view to_string(scoped_role_name r) {
    switch (r) {
        case scoped_role_name::owner: return "owner";
        case scoped_role_name::editor: return "editor";
        case scoped_role_name::viewer: return "viewer";
    }
    return "viewer";
}

std::optional<scoped_role_name> parse_scoped_role_name(std::string_view text) {
    if (text == "owner") return scoped_role_name::owner;
    if (text == "editor") return scoped_role_name::editor;
    if (text == "viewer") return scoped_role_name::viewer;
    return std::nullopt;
}

std::string_view to_string(link_purpose p) {
    switch (p) {
        case link_purpose::invitation: return "invitation";
        case link_purpose::password_reset: return "password_reset";
        case link_purpose::mfa_challenge: return "mfa_challenge";
        case link_purpose::email_change: return "email_change";
    }
    return "invitation";
}

std::string_view to_string(invitation_state s) {
    switch (s) {
        case invitation_state::none: return "none";
        case invitation_state::pending: return "pending";
        case invitation_state::expired: return "expired";
    }
    return "none";
}

std::string to_json(const organization_settings& s) {
    const auto& p = s.passwords;
    return boost::json::serialize(boost::json::object{
        {"deletion", s.deactivate_only ? "deactivate_only" : "allowed"},
        {"mfa_required", s.mfa_required},
        {"password_reset", s.reset_generates_password ? "generated" : "link"},
        {"invitation_ttl_hours", s.invitation_ttl_hours},
        {"session_ttl_hours", s.session_ttl_hours},
        {"password_policy", boost::json::object{{"min_length", p.min_length},
                                                {"max_length", p.max_length},
                                                {"require_upper", p.require_upper},
                                                {"require_lower", p.require_lower},
                                                {"require_digit", p.require_digit},
                                                {"require_special", p.require_special},
                                                {"special_characters", p.special_characters}}}});
}

std::optional<organization_settings> parse_organization_settings(std::string_view json, std::string& error) {
    organization_settings s;
    boost::system::error_code ec;
    const auto value = boost::json::parse(json, ec);
    if (ec || !value.is_object()) {
        error = "settings must be a JSON object";
        return std::nullopt;
    }
    const auto integer = [&](const boost::json::value& v, std::string_view key, int min, int max, int& out) {
        if (!v.is_int64() || v.as_int64() < min || v.as_int64() > max) {
            error = "'" + std::string(key) + "' must be an integer from " + std::to_string(min) + " to " +
                    std::to_string(max);
            return false;
        }
        out = static_cast<int>(v.as_int64());
        return true;
    };
    const auto boolean = [&](const boost::json::value& v, std::string_view key, bool& out) {
        if (!v.is_bool()) {
            error = "'" + std::string(key) + "' must be true or false";
            return false;
        }
        out = v.as_bool();
        return true;
    };
    for (const auto& [key, v] : value.as_object()) {
        if (key == "deletion") {
            if (!v.is_string() || (v.as_string() != "allowed" && v.as_string() != "deactivate_only")) {
                error = "'deletion' must be \"allowed\" or \"deactivate_only\"";
                return std::nullopt;
            }
            s.deactivate_only = v.as_string() == "deactivate_only";
        } else if (key == "password_reset") {
            if (!v.is_string() || (v.as_string() != "link" && v.as_string() != "generated")) {
                error = "'password_reset' must be \"link\" or \"generated\"";
                return std::nullopt;
            }
            s.reset_generates_password = v.as_string() == "generated";
        } else if (key == "mfa_required") {
            if (!boolean(v, key, s.mfa_required)) return std::nullopt;
        } else if (key == "invitation_ttl_hours") {
            if (!integer(v, key, 1, 24 * 90, s.invitation_ttl_hours)) return std::nullopt;
        } else if (key == "session_ttl_hours") {
            if (!integer(v, key, 1, 24 * 90, s.session_ttl_hours)) return std::nullopt;
        } else if (key == "password_policy") {
            if (!v.is_object()) {
                error = "'password_policy' must be an object";
                return std::nullopt;
            }
            auto& p = s.passwords;
            for (const auto& [pk, pv] : v.as_object()) {
                bool ok = true;
                if (pk == "min_length") ok = integer(pv, pk, 1, 1024, p.min_length);
                else if (pk == "max_length") ok = integer(pv, pk, 1, 1024, p.max_length);
                else if (pk == "require_upper") ok = boolean(pv, pk, p.require_upper);
                else if (pk == "require_lower") ok = boolean(pv, pk, p.require_lower);
                else if (pk == "require_digit") ok = boolean(pv, pk, p.require_digit);
                else if (pk == "require_special") ok = boolean(pv, pk, p.require_special);
                else if (pk == "special_characters") {
                    ok = pv.is_string() && !pv.as_string().empty() && pv.as_string().size() <= 64;
                    if (ok) p.special_characters = pv.as_string();
                    else error = "'special_characters' must be a string of 1-64 characters";
                } else {
                    error = "unknown key 'password_policy." + std::string(pk) +
                            "' (accepted: min_length, max_length, require_upper, require_lower, require_digit, "
                            "require_special, special_characters)";
                    ok = false;
                }
                if (!ok) return std::nullopt;
            }
            if (p.min_length > p.max_length) {
                error = "'password_policy.min_length' must not exceed 'max_length'";
                return std::nullopt;
            }
        } else {
            error = "unknown setting '" + std::string(key) +
                    "' (accepted: deletion, mfa_required, password_reset, invitation_ttl_hours, session_ttl_hours, "
                    "password_policy)";
            return std::nullopt;
        }
    }
    return s;
}

}  // namespace idgate::schema
