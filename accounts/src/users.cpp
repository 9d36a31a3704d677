// SPDX-License-Identifier: AGPL-3.0-or-later
// The users of an organisation, as its admins manage them: list and search, invite, edit, roles and
// permissions, disable/enable, delete, password and MFA resets, sessions, login activity.
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "accounts/password.hpp"
#include "common.hpp"
#include "core/crypto.hpp"

namespace idgate::accounts {
namespace {

using namespace detail;

constexpr std::chrono::hours password_reset_ttl{1};
constexpr std::chrono::hours email_change_ttl{24};
constexpr std::int64_t max_page = 200;

core::time_point time_param(std::string_view name, std::string_view text) {
    // Accepts a date (2026-01-31, meaning its start, UTC) or a full timestamp.
    std::string value{text};
    if (value.size() == 10) value += "T00:00:00Z";
    const auto t = core::parse_timestamp(value);
    if (!t)
        throw core::http_error(400, "invalid_parameter",
                               "query parameter '" + std::string(name) +
                                   "' must be a date (2026-01-31) or a UTC timestamp (2026-01-31T12:00:00Z)");
    return *t;
}

schema::system_role role_field(const body_reader& body, std::string_view key, schema::system_role fallback) {
    const auto text = body.string(key, 32);
    if (!text) return fallback;
    const auto role = schema::parse_system_role(*text);
    if (!role)
        throw invalid_field(key, "unknown role '" + *text + "' (accepted: guest, member, manager, admin, super_admin)");
    return *role;
}

core::response account_response(int status, const schema::account& a) {
    return core::response::json(status, boost::json::serialize(account_json(a)));
}


std::vector<std::string> split_emails(const boost::json::value& v) {
    std::vector<std::string> out;
    const auto add = [&](std::string_view text) {
        while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
        while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
        if (!text.empty()) out.emplace_back(text);
    };
    if (v.is_string()) {
        std::string_view rest = v.as_string();
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            add(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        }
    } else if (v.is_array()) {
        for (const auto& item : v.as_array()) {
            if (!item.is_string()) throw invalid_field("emails", "must be a string or an array of strings");
            add(item.as_string());
        }
    } else {
        throw invalid_field("emails", "must be a comma-separated string or an array of strings");
    }
    return out;
}

core::response create_invited(const context& c, const core::request& req) {
    const body_reader body(req, {"emails", "email", "role", "given_name", "family_name", "display_name"});
    std::vector<std::string> emails;
    if (const auto* v = body.object().if_contains("emails")) emails = split_emails(*v);
    if (const auto one = body.string("email", 254)) emails.push_back(*one);
    if (emails.empty()) throw invalid_field("emails", "required: one or more email addresses, comma-separated");
    if (emails.size() > 100) throw invalid_field("emails", "at most 100 addresses per request");
    const auto role = role_field(body, "role", schema::system_role::member);
    if (c.caller) require(authorize(*c.caller, action::invite_user, nullptr, role));
    require_local(c, c.idp.invite_by, "invitations");
    if (emails.size() > 1 && (body.has("given_name") || body.has("family_name") || body.has("display_name")))
        throw invalid_field("given_name", "names can be given only when inviting one address");

    const auto settings = c.db.local_accounts().get_settings(c.organization.id).value();
    std::vector<store::new_account> drafts;
    std::vector<issued_link> links;
    for (std::size_t i = 0; i < emails.size(); ++i) {
        const auto& email = emails[i];
        if (!plausible_email(email)) throw invalid_field("emails", "'" + email + "' is not a valid email address");
        for (std::size_t j = 0; j < i; ++j)
            if (schema::case_fold(emails[j]) == schema::case_fold(email))
                throw invalid_field("emails", "'" + email + "' is listed twice");
        // The username is the address: what people type to sign in, immutable from now on.
        if (c.db.find_user_by_user_name(c.organization.id, email))
            throw core::http_error(409, "user_exists", "a user '" + email + "' already exists in this organization");
        store::new_account draft;
        draft.user.organization_id = c.organization.id;
        draft.user.user_name = email;
        draft.user.emails.push_back({email, "work", "", true});
        draft.user.name.given_name = body.string("given_name").value_or("");
        draft.user.name.family_name = body.string("family_name").value_or("");
        draft.user.display_name = body.string("display_name").value_or("");
        draft.role = role;
        links.push_back(new_link(c, schema::link_purpose::invitation, "",
                                 std::chrono::hours(settings.invitation_ttl_hours)));
        draft.invitation = links.back().link;
        drafts.push_back(std::move(draft));
    }
    auto created = c.db.local_accounts().create_accounts(std::move(drafts), c.actor);
    if (!created) {
        if (created.error() == store::errc::already_exists)
            throw core::http_error(409, "user_exists", "one of these users was created meanwhile; nothing was invited");
        throw_store_error(created.error(), "user");
    }
    boost::json::array invited;
    for (std::size_t i = 0; i < created->size(); ++i) {
        auto item = account_json((*created)[i]);
        item["invitation_link"] = deliver_link(c, (*created)[i], links[i]);
        invited.push_back(std::move(item));
    }
    return core::response::json(201, boost::json::serialize(boost::json::object{{"invited", invited}}));
}

}  // namespace

core::response list_users(const context& c, const core::request& req) {
    const auto& me = *c.caller;
    require(authorize(me, action::list_users));
    store::account_query q;
    q.organization_id = c.organization.id;
    if (const auto text = req.query_param("q")) q.text = std::string(text->substr(0, 200));
    if (const auto role = req.query_param("role")) {
        q.role = schema::parse_system_role(*role);
        if (!q.role)
            throw core::http_error(400, "invalid_parameter",
                                   "query parameter 'role' must be one of guest, member, manager, admin, super_admin");
    }
    // Disabled and not-yet-activated users are shown unless hidden: include_disabled / include_pending.
    const auto flag = [&](std::string_view name) {
        const auto v = req.query_param(name);
        if (!v) return true;
        if (*v == "true") return true;
        if (*v == "false") return false;
        throw core::http_error(400, "invalid_parameter", "query parameter '" + std::string(name) + "' must be true or false");
    };
    if (const auto status = req.query_param("status")) {
        const auto parsed = schema::parse_user_status(*status);
        if (!parsed)
            throw core::http_error(400, "invalid_parameter", "query parameter 'status' must be pending, active or disabled");
        q.statuses = {*parsed};
    } else if (!flag("include_disabled") || !flag("include_pending")) {
        q.statuses = {schema::user_status::active};
        if (flag("include_disabled")) q.statuses.push_back(schema::user_status::disabled);
        if (flag("include_pending")) q.statuses.push_back(schema::user_status::pending);
    }
    if (const auto from = req.query_param("created_from")) q.created_from = time_param("created_from", *from);
    if (const auto to = req.query_param("created_to")) q.created_to = time_param("created_to", *to);
    if (const auto sort = req.query_param("sort")) {
        if (*sort == "created") q.sort = store::account_query::sort_key::created;
        else if (*sort == "user_name") q.sort = store::account_query::sort_key::user_name;
        else if (*sort == "display_name") q.sort = store::account_query::sort_key::display_name;
        else if (*sort == "last_login") q.sort = store::account_query::sort_key::last_login;
        else
            throw core::http_error(400, "invalid_parameter",
                                   "query parameter 'sort' must be created, user_name, display_name or last_login");
    }
    if (const auto order = req.query_param("order")) {
        if (*order != "asc" && *order != "desc")
            throw core::http_error(400, "invalid_parameter", "query parameter 'order' must be asc or desc");
        q.descending = *order == "desc";
    }
    q.offset = core::integer_query_param(req, "offset", 0, 0, INT64_MAX / 2);
    q.limit = core::integer_query_param(req, "limit", 50, 0, max_page);

    boost::json::array items;
    std::int64_t total = 0;
    bool exact = true;
    if (!authorize(me, action::view_user, nullptr)) {
        // Members and guests see only themselves.
        total = 1;
        if (q.limit > 0 && q.offset == 0) items.push_back(account_json(me));
    } else {
        auto page = c.db.local_accounts().find_accounts(q);
        if (!page) throw_store_error(page.error(), "query");
        total = page->total;
        exact = page->total_exact;
        for (const auto& a : page->accounts) items.push_back(account_json(a));
    }
    return core::response::json(200, boost::json::serialize(boost::json::object{
                                         {"users", items},
                                         {"total", total},
                                         {"total_exact", exact},  // false: at least `total` match
                                         {"offset", q.offset},
                                         {"limit", q.limit}}));
}

core::response invite_users(const context& c, const core::request& req) { return create_invited(c, req); }

core::response bootstrap_user(const context& c, const core::request& req) { return create_invited(c, req); }

core::response get_user(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    const auto d = authorize(*c.caller, action::view_user, &target);
    // Members and guests asking for someone else get the same 404 as for a missing id.
    if (!d) throw core::http_error(404, "not_found", "no user '" + std::string(req.param("id")) + "' in this organization");
    auto body = account_json(target);
    add_identity_provider_fields(c, target, body);
    return core::response::json(200, boost::json::serialize(body));
}

core::response update_user(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    const bool self = target.profile.id == c.caller->profile.id;
    if (self) require(authorize(*c.caller, action::edit_own_profile, &target));
    else require(authorize(*c.caller, action::edit_user, &target));
    const body_reader body(req, {"given_name", "family_name", "display_name", "title", "department", "locale",
                                 "user_name", "email", "version"});
    if (body.has("user_name"))
        throw invalid_field("user_name", "is set at creation and cannot be changed");
    std::optional<std::string> new_email = body.string("email", 254);
    if (new_email && !plausible_email(*new_email)) throw invalid_field("email", "'" + *new_email + "' is not a valid email address");
    std::optional<std::int64_t> expected;
    if (const auto* v = body.object().if_contains("version")) {
        if (!v->is_int64()) throw invalid_field("version", "must be an integer (the version you read)");
        expected = v->as_int64();
    }
    // The read-only mirror: a field the identity provider owns is changed there, not here.
    for (const auto& [key, value] : body.object())
        if (const auto* by = c.idp.locked(key); by && key != "version")
            throw core::http_error(403, "field_locked",
                                   "'" + std::string(key) + "' is managed by identity provider " + *by +
                                       "; change it there");
    const auto given = body.string("given_name"), family = body.string("family_name"),
               display = body.string("display_name"), title = body.string("title"),
               department = body.string("department"), locale = body.string("locale", 35);
    // People edit their own names and locale; title and department are the organisation's to set.
    if (self && (title || department)) require(authorize(*c.caller, action::edit_user, &target));
    auto updated = c.db.modify_user(
        c.organization.id, target.profile.id,
        [&](schema::user& u) {
            if (expected && u.version != *expected) throw core::http_error(409, "conflict", "the user changed since version " + std::to_string(*expected) + "; reload and retry");
            if (given) u.name.given_name = *given;
            if (family) u.name.family_name = *family;
            if (display) u.display_name = *display;
            if (title) u.title = *title;
            if (department) u.department = *department;
            if (locale) u.locale = *locale;
        },
        c.actor);
    if (!updated) throw_store_error(updated.error(), "user");
    auto result = account_json(load_target(c, target.profile.id));
    if (new_email) {
        // An email change takes effect when the new address confirms it (a link sent there), so nobody
        // can point an account at an address they do not control.
        auto link = new_link(c, schema::link_purpose::email_change, target.profile.id, email_change_ttl);
        link.link.payload = *new_email;
        auto issued = c.db.local_accounts().issue_link(link.link, c.actor);
        if (!issued) throw_store_error(issued.error(), "user");
        auto pending = deliver_link(c, target, link, *new_email);
        pending["email"] = *new_email;
        result["email_change"] = pending;
    }
    return core::response::json(200, boost::json::serialize(result));
}

core::response confirm_email_change(const context& c, const core::request& req) {
    const body_reader body(req, {"token"});
    const auto token = body.required_string("token", 200);
    auto link = c.db.local_accounts().find_link(core::sha256_hex(token));
    if (!link || link->purpose != schema::link_purpose::email_change)
        throw core::http_error(404, "not_found", "this email confirmation link is not valid");
    const schema::actor actor{"user", link->user_id, "", req.client_address, req.request_id};
    auto r = c.db.local_accounts().redeem_link(core::sha256_hex(token), schema::link_purpose::email_change,
                                               std::nullopt, actor);
    if (!r) {
        if (r.error() == store::errc::already_used)
            throw core::http_error(410, "link_used", "this email confirmation link was already used or replaced");
        if (r.error() == store::errc::expired)
            throw core::http_error(410, "link_expired", "this email confirmation link expired; change the email again");
        throw_store_error(r.error(), "user");
    }
    const auto account = c.db.local_accounts().get_account(link->organization_id, link->user_id).value();
    return core::response::json(200, boost::json::serialize(boost::json::object{{"user", account_json(account)}}));
}

core::response delete_user(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    require(authorize(*c.caller, action::delete_user, &target));
    require_local(c, c.idp.delete_by, "deletions");
    const auto settings = c.db.local_accounts().get_settings(c.organization.id).value();
    if (settings.deactivate_only)
        throw core::http_error(409, "deletion_disabled",
                               "this organization keeps every account (deletion: deactivate_only); disable the user "
                               "instead: POST /api/v1/users/" + target.profile.id + "/disable");
    auto r = c.db.local_accounts().delete_account(c.organization.id, target.profile.id, c.actor);
    if (!r) throw_store_error(r.error(), "user");
    return core::response::no_content();
}

core::response erase_user(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    require(authorize(*c.caller, action::delete_user, &target));
    // Allowed under deletion: deactivate_only too: erasure requests are a legal obligation (GDPR art. 17),
    // not a housekeeping choice.
    auto r = c.db.local_accounts().erase_account(c.organization.id, target.profile.id, c.actor);
    if (!r) throw_store_error(r.error(), "user");
    return core::response::no_content();
}

core::response resend_invitation(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    require(authorize(*c.caller, action::invite_user, &target, target.role));
    require_local(c, c.idp.invite_by, "invitations");
    if (target.profile.status != schema::user_status::pending)
        throw core::http_error(409, "not_pending", "this user has already accepted the invitation");
    auto& accounts = c.db.local_accounts();
    if (const auto last = accounts.latest_link(c.organization.id, target.profile.id, schema::link_purpose::invitation)) {
        const auto next = last->created + invitation_resend_interval;
        if (next > c.clock.now()) {
            const auto wait = std::chrono::duration_cast<std::chrono::seconds>(next - c.clock.now()).count() + 1;
            throw core::http_error(429, "too_soon",
                                   "the invitation was sent less than 30 seconds ago; resend in " +
                                       std::to_string(wait) + " seconds")
                .with_header("Retry-After", std::to_string(wait));
        }
    }
    const auto settings = accounts.get_settings(c.organization.id).value();
    auto link = new_link(c, schema::link_purpose::invitation, target.profile.id,
                         std::chrono::hours(settings.invitation_ttl_hours));
    auto issued = accounts.issue_link(link.link, c.actor);
    if (!issued) throw_store_error(issued.error(), "user");
    const auto updated = load_target(c, target.profile.id);
    auto body = account_json(updated);
    body["invitation_link"] = deliver_link(c, updated, link);
    return core::response::json(200, boost::json::serialize(body));
}

core::response set_role(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    const body_reader body(req, {"role"});
    if (!body.has("role")) throw invalid_field("role", "required");
    const auto role = role_field(body, "role", schema::system_role::member);
    require(authorize(*c.caller, action::change_role, &target, role));
    require_local(c, c.idp.authorization_by, "roles");
    if (role == schema::system_role::super_admin && target.role != schema::system_role::super_admin)
        throw core::http_error(409, "use_ownership_transfer",
                               "there is one owner: transfer ownership instead (POST /api/v1/ownership-transfer)");
    auto r = c.db.local_accounts().set_role(c.organization.id, target.profile.id, role, c.actor);
    if (!r) throw_store_error(r.error(), "user");
    return account_response(200, *r);
}

core::response set_permissions(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    require(authorize(*c.caller, action::change_permissions, &target));
    require_local(c, c.idp.authorization_by, "permissions");
    const body_reader body(req, {"permissions"});
    const auto* v = body.object().if_contains("permissions");
    if (!v || !v->is_array()) throw invalid_field("permissions", "required: an array of permission names");
    std::vector<std::string> names;
    for (const auto& item : v->as_array()) {
        if (!item.is_string()) throw invalid_field("permissions", "must contain only strings");
        names.emplace_back(item.as_string());
    }
    const auto defined = c.db.local_accounts().list_permissions(c.organization.id);
    for (const auto& n : names) {
        bool known = false;
        for (const auto& d : defined) known = known || d.name == n;
        if (!known)
            throw invalid_field("permissions", "'" + n + "' is not defined in this organization (GET /api/v1/permissions)");
    }
    auto r = c.db.local_accounts().set_permissions(c.organization.id, target.profile.id, names, c.actor);
    if (!r) throw_store_error(r.error(), "user");
    return account_response(200, *r);
}

core::response disable_user(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    require(authorize(*c.caller, action::disable_user, &target));
    if (target.profile.status == schema::user_status::disabled) return account_response(200, target);
    auto r = c.db.local_accounts().set_status(c.organization.id, target.profile.id, schema::user_status::disabled,
                                              c.actor);
    if (!r) throw_store_error(r.error(), "user");
    return account_response(200, *r);
}

core::response enable_user(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    require(authorize(*c.caller, action::enable_user, &target));
    if (target.profile.status == schema::user_status::pending)
        throw core::http_error(409, "not_activated",
                               "this user has not accepted the invitation yet; resend it instead");
    if (target.profile.status == schema::user_status::active) return account_response(200, target);
    auto r = c.db.local_accounts().set_status(c.organization.id, target.profile.id, schema::user_status::active,
                                              c.actor);
    if (!r) throw_store_error(r.error(), "user");
    return account_response(200, *r);
}

core::response end_sessions(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    if (target.profile.id != c.caller->profile.id) require(authorize(*c.caller, action::end_sessions, &target));
    auto r = c.db.local_accounts().end_user_sessions(c.organization.id, target.profile.id, c.actor);
    if (!r) throw_store_error(r.error(), "user");
    return core::response::json(200, boost::json::serialize(boost::json::object{{"sessions_ended", *r}}));
}

core::response reset_password(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    require(authorize(*c.caller, action::reset_password, &target));
    require_local(c, c.idp.password_by, "passwords", target.break_glass);
    if (target.profile.status != schema::user_status::active)
        throw core::http_error(409, "not_active", "only active users can reset their password; a pending user "
                                                  "sets one by accepting the invitation");
    if (c.settings.reset_generates_password) {
        // The organisation chose passwords over links: one that meets the policy, shown to the admin once,
        // and every session of the user ends.
        const auto password = generate_password(c.settings.passwords);
        auto r = c.db.local_accounts().set_password(c.organization.id, target.profile.id, hash_password(password), true,
                                                    "", c.actor);
        if (!r) throw_store_error(r.error(), "user");
        auto res = core::response::json(200, boost::json::serialize(boost::json::object{
                                                 {"generated_password", password},
                                                 {"note", "shown once: pass it on to the user"}}));
        res.headers.emplace_back("Cache-Control", "no-store");
        return res;
    }
    auto link = new_link(c, schema::link_purpose::password_reset, target.profile.id, password_reset_ttl);
    auto issued = c.db.local_accounts().issue_link(link.link, c.actor);
    if (!issued) throw_store_error(issued.error(), "user");
    return core::response::json(
        200, boost::json::serialize(boost::json::object{{"reset_link", deliver_link(c, target, link)}}));
}

core::response reset_mfa(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    require(authorize(*c.caller, action::reset_mfa, &target));
    require_local(c, c.idp.mfa_by, "MFA settings", target.break_glass);
    auto r = c.db.local_accounts().set_mfa(c.organization.id, target.profile.id, {}, "user.mfa_reset", c.actor);
    if (!r) throw_store_error(r.error(), "user");
    return core::response::no_content();
}

core::response user_logins(const context& c, const core::request& req) {
    const auto target = load_target(c, req.param("id"));
    require(authorize(*c.caller, action::view_logins, &target));
    const auto limit = core::integer_query_param(req, "limit", 50, 1, 500);
    boost::json::array items;
    for (const auto& l : c.db.local_accounts().list_logins(c.organization.id, target.profile.id, limit))
        items.push_back(boost::json::object{{"at", core::format_timestamp(l.at)},
                                            {"method", l.method},
                                            {"success", l.success},
                                            {"reason", l.reason},
                                            {"client_address", l.client_address}});
    return core::response::json(200, boost::json::serialize(boost::json::object{{"logins", items}}));
}

}  // namespace idgate::accounts
