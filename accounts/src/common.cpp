// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common.hpp"

#include "store/provisioning.hpp"

#include <boost/json/array.hpp>

#include "core/crypto.hpp"
#include "core/json_body.hpp"
#include "core/log.hpp"

namespace idgate::accounts::detail {

boost::json::object account_json(const schema::account& a) {
    const auto& u = a.profile;
    std::string email;
    for (const auto& e : u.emails)
        if (email.empty() || e.primary) email = e.value;
    const auto strings = [](const std::vector<std::string>& items) {
        boost::json::array out;
        for (const auto& i : items) out.emplace_back(i);
        return out;
    };
    boost::json::array scoped;
    for (const auto& r : a.scoped_roles) {
        std::string role{schema::to_string(r.role)};
        role[0] = static_cast<char>(role[0] - 'a' + 'A');
        scoped.push_back(boost::json::object{{"scope_id", r.scope_id},
                                             {"kind", schema::to_string(r.kind)},
                                             {"scope", r.scope_name},
                                             {"role", schema::to_string(r.role)},
                                             {"display", r.scope_name + ": " + role}});
    }
    const auto optional_time = [](const std::optional<core::time_point>& t) {
        return t ? boost::json::value(core::format_timestamp(*t)) : boost::json::value(nullptr);
    };
    return {{"id", u.id},
            {"user_name", u.user_name},
            {"email", email},
            {"given_name", u.name.given_name},
            {"family_name", u.name.family_name},
            {"display_name", u.display_name},
            {"title", u.title},
            {"department", u.department},
            {"locale", u.locale},
            {"status", schema::to_string(u.status)},
            {"invitation", schema::to_string(a.invitation)},
            {"invitation_sent", optional_time(a.invitation_sent)},
            {"role", schema::to_string(a.role)},
            {"permissions", strings(a.permissions)},
            {"custom_roles", strings(a.custom_roles)},
            {"effective_permissions", strings(a.effective_permissions)},
            {"scoped_roles", scoped},
            {"mfa_enrolled", a.mfa_enrolled},
            {"break_glass", a.break_glass},
            {"created", core::format_timestamp(u.created)},
            {"last_login", optional_time(u.last_login)},
            {"logins", boost::json::object{{"last_7_days", a.logins.last_7_days},
                                           {"last_30_days", a.logins.last_30_days},
                                           {"last_365_days", a.logins.last_365_days}}},
            {"version", u.version}};
}

core::http_error invalid_field(std::string_view field, std::string message) {
    return core::http_error(400, "invalid_field", "'" + std::string(field) + "': " + message);
}

void require(const decision& d) {
    if (!d) throw core::http_error(403, "forbidden", d.reason);
}

schema::account load_target(const context& c, std::string_view id) {
    auto a = c.db.local_accounts().get_account(c.organization.id, id);
    if (!a) throw core::http_error(404, "not_found", "no user '" + std::string(id) + "' in this organization");
    return *a;
}

void throw_store_error(const boost::system::error_code& ec, std::string_view what) {
    if (ec == store::errc::not_found) throw core::http_error(404, "not_found", std::string(what) + " not found");
    if (ec == store::errc::already_exists)
        throw core::http_error(409, "conflict", std::string(what) + " already exists");
    if (ec == store::errc::last_owner)
        throw core::http_error(409, "last_owner",
                               "this would leave the organization without an owner (super_admin); transfer "
                               "ownership first");
    if (ec == store::errc::version_mismatch)
        throw core::http_error(409, "conflict", std::string(what) + " changed meanwhile; retry");
    throw core::http_error(500, "internal_error", "the change could not be stored", ec.message());
}

body_reader::body_reader(const core::request& req, std::initializer_list<std::string_view> accepted)
    : body_(core::parse_json_object_body(req)) {
    for (const auto& [key, value] : body_) {
        bool known = false;
        for (auto a : accepted) known = known || key == a;
        if (!known) {
            std::string list;
            for (auto a : accepted) list += (list.empty() ? "" : ", ") + std::string(a);
            throw invalid_field(key, "unknown field (accepted: " + list + ")");
        }
    }
}

std::optional<std::string> body_reader::string(std::string_view key, std::size_t max_length) const {
    const auto* v = body_.if_contains(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) throw invalid_field(key, "must be a string");
    if (v->as_string().size() > max_length)
        throw invalid_field(key, "must be at most " + std::to_string(max_length) + " characters");
    return std::string(v->as_string());
}

std::string body_reader::required_string(std::string_view key, std::size_t max_length) const {
    auto s = string(key, max_length);
    if (!s || s->empty()) throw invalid_field(key, "required");
    return *s;
}

std::optional<bool> body_reader::boolean(std::string_view key) const {
    const auto* v = body_.if_contains(key);
    if (!v) return std::nullopt;
    if (!v->is_bool()) throw invalid_field(key, "must be true or false");
    return v->as_bool();
}

issued_link new_link(const context& c, schema::link_purpose purpose, std::string_view user_id,
                     std::chrono::seconds ttl) {
    issued_link out;
    out.secret = core::new_secret(purpose == schema::link_purpose::invitation       ? "idg_inv_"
                                  : purpose == schema::link_purpose::password_reset ? "idg_rst_"
                                                                                    : "idg_mfa_");
    out.link.organization_id = c.organization.id;
    out.link.user_id = user_id;
    out.link.purpose = purpose;
    out.link.secret_hash = core::sha256_hex(out.secret);
    out.link.created = c.clock.now();
    out.link.expires = c.clock.now() + ttl;
    return out;
}

namespace {

std::string with_token(const std::string& url_template, const std::string& token) {
    std::string out = url_template;
    for (auto at = out.find("{token}"); at != std::string::npos; at = out.find("{token}", at + token.size()))
        out.replace(at, 7, token);
    return out;
}

std::string recipient_of(const schema::account& a) {
    for (const auto& e : a.profile.emails)
        if (e.primary) return e.value;
    return a.profile.emails.empty() ? a.profile.user_name : a.profile.emails.front().value;
}

}  // namespace

boost::json::object deliver_link(const context& c, const schema::account& to, const issued_link& l,
                                 const std::string& address) {
    const auto expires = core::format_timestamp(l.link.expires);
    boost::json::object shown{{"expires", expires}};
    if (!c.mail) {
        shown["token"] = l.secret;
        return shown;
    }
    const auto& settings = c.mail->settings();
    const std::string org = c.organization.name.empty() ? c.organization.slug : c.organization.name;
    const std::string who = c.caller ? (c.caller->profile.display_name.empty() ? c.caller->profile.user_name
                                                                              : c.caller->profile.display_name)
                                     : "An administrator";
    mail_message m;
    m.to = address.empty() ? recipient_of(to) : address;
    if (l.link.purpose == schema::link_purpose::email_change) {
        m.subject = "Confirm your new email address for " + org;
        m.text = "Someone asked to make " + m.to + " the email address of the " + org + " account " +
                 to.profile.user_name + ".\n\nIf that was you, confirm it:\n" +
                 with_token(settings.email_change_url, l.secret) + "\n\nThe link works once and expires at " +
                 expires + ". If it was not you, ignore this message: nothing changes.\n";
    } else if (l.link.purpose == schema::link_purpose::invitation) {
        m.subject = "You are invited to " + org;
        m.text = who + " invited you to " + org + ".\n\nAccept the invitation and choose your password:\n" +
                 with_token(settings.invitation_url, l.secret) + "\n\nThe link works once and expires at " + expires +
                 ".\nYour username is " + to.profile.user_name + ".\n";
    } else {
        m.subject = "Reset your " + org + " password";
        m.text = "An administrator of " + org + " started a password reset for your account (" +
                 to.profile.user_name + ").\n\nChoose a new password:\n" +
                 with_token(settings.password_reset_url, l.secret) + "\n\nThe link works once and expires at " +
                 expires + ". Your current sessions end when you use it.\n";
    }
    try {
        c.mail->send(m);
        shown["sent_to"] = m.to;
    } catch (const delivery_error& e) {
        core::log::warn("mail delivery failed", {{"to_user", to.profile.id}, {"error", e.what()}});
        shown["token"] = l.secret;
        shown["delivery_error"] = "the mail could not be sent; pass the link on, or resend later";
    }
    return shown;
}

void require_local(const context& c, const std::string& by, std::string_view what, bool exempt) {
    if (!c.idp.enforced || by.empty() || exempt) return;
    throw core::http_error(403, "managed_by_identity_provider",
                           std::string(what) + " are managed by identity provider " + by +
                               " while single sign-on is enforced");
}

bool plausible_email(std::string_view email) {
    const auto at = email.find('@');
    if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos) return false;
    if (email.size() > 254) return false;
    const auto domain = email.substr(at + 1);
    const auto dot = domain.find('.');
    if (domain.empty() || dot == std::string_view::npos || dot == 0 || domain.back() == '.') return false;
    for (char ch : email)
        if (static_cast<unsigned char>(ch) <= ' ' || ch == ',' || ch == '<' || ch == '>' || ch == '"') return false;
    return true;
}

void add_identity_provider_fields(const context& c, const schema::account& a, boost::json::object& out) {
    boost::json::array locked;
    for (const auto& [f, by] : c.idp.locked_fields) locked.push_back(boost::json::object{{"field", f}, {"connection", by}});
    out["locked_fields"] = std::move(locked);
    out["roles_managed_by"] = c.idp.authorization_by.empty() ? boost::json::value(nullptr)
                                                             : boost::json::value(c.idp.authorization_by);
    boost::json::array providers;
    for (const auto& [connection, subject] : c.db.identities().bindings_of(a.profile.id))
        providers.push_back(boost::json::object{{"connection", connection}, {"subject", subject}});
    out["identity_providers"] = std::move(providers);
}

std::optional<std::string_view> cookie_value(const core::request& req, std::string_view name) {
    const auto header = req.header("cookie");
    if (!header) return std::nullopt;
    std::string_view rest = *header;
    while (!rest.empty()) {
        const auto semi = rest.find(';');
        auto pair = rest.substr(0, semi);
        rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
        while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
        const auto eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    }
    return std::nullopt;
}

std::string session_cookie_header(std::string_view secret, std::int64_t max_age_seconds) {
    // HttpOnly: scripts cannot read it; Secure: never sent over plain HTTP (browsers treat localhost as
    // secure); SameSite=Lax: not sent on cross-site POSTs, the CSRF defence for cookie sessions.
    return std::string(session_cookie) + "=" + std::string(secret) + "; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=" +
           std::to_string(max_age_seconds);
}

}  // namespace idgate::accounts::detail
