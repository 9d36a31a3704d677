// SPDX-License-Identifier: AGPL-3.0-or-later
#include "oidc/handlers.hpp"

#include <boost/json/serialize.hpp>

#include "accounts/sso.hpp"
#include "core/crypto.hpp"
#include "core/form.hpp"
#include "core/log.hpp"
#include "provisioning/sign_in.hpp"
#include "store/accounts.hpp"
#include "store/provisioning.hpp"

namespace idgate::oidc {
namespace {

std::string query(const core::request& req, std::string_view name) {
    return std::string(req.query_param(name).value_or(""));
}

schema::actor actor_of(const context& c, const core::request& req, const std::string& who = "") {
    return {"sso", who, "oidc connection " + c.idp.config().name, req.client_address, req.request_id, c.connection_id};
}

// A refusal: the reason to the log, the login activity and the audit trail; "Sign-in failed" and the
// request id as reference to the person.
core::response refuse(const context& c, const core::request& req, const std::string& code, const std::string& detail,
                      const std::string& user_id = "", const std::string& login = "") {
    core::log::warn("oidc sign-in refused", {{"connection", c.idp.config().name},
                                             {"reason", code},
                                             {"detail", detail},
                                             {"reference", req.request_id}});
    accounts::record_failed_sso_sign_in(c.db, c.clock, {c.organization.id, user_id, login, c.connection_id, "", "oidc"},
                                        code, req);
    c.db.record_audit(c.organization.id, actor_of(c, req), "sign_in.refused", "connection", c.connection_id,
                      c.idp.config().name,
                      boost::json::serialize(boost::json::object{
                          {"protocol", "oidc"}, {"reason", code}, {"detail", detail}, {"reference", req.request_id}}));
    return accounts::sign_in_failure_page(req.request_id);
}

}  // namespace

std::string subject_of(const connection_config& config, const boost::json::object& claims) {
    if (config.identity == connection_config::identity_key::tid_oid) {
        const auto tid = claim_text(claims, "tid"), oid = claim_text(claims, "oid");
        if (tid.empty() || oid.empty())
            throw sign_in_error("missing_claim", "the ID token lacks 'tid' or 'oid' (Entra ID identity key)");
        return tid + "|" + oid;
    }
    return claim_text(claims, "iss") + "|" + claim_text(claims, "sub");
}

mapping::identity identity_from_claims(const boost::json::object& claims) {
    mapping::identity who;
    for (const auto& [key, value] : claims) {
        if (key == "groups") continue;
        if (value.is_array()) {
            auto& list = who.attributes[std::string(key)];
            for (const auto& item : value.as_array())
                if (!item.is_object() && !item.is_array()) list.push_back(claim_text({{"v", item}}, "v"));
        } else if (!value.is_object() && !value.is_null()) {
            who.attributes[std::string(key)].push_back(claim_text(claims, key));
        }
    }
    // Entra ID's overage (INTEROP S2): too many groups for the token, a link to Graph instead.
    bool overage = claims.contains("hasgroups");
    if (const auto* names = claims.if_contains("_claim_names"); names && names->is_object())
        overage = overage || names->as_object().contains("groups");
    const auto* groups = claims.if_contains("groups");
    if (groups && groups->is_array() && !overage) {
        std::vector<std::string> list;
        for (const auto& g : groups->as_array())
            if (g.is_string()) list.emplace_back(g.as_string());
        who.groups = std::move(list);
    }
    return who;
}

core::response login(const context& c, const core::request& req) {
    std::string return_to = query(req, "return_to");
    if (return_to.empty()) return_to = c.settings.default_return_url;
    // No open redirect: return_to is a local path or under an allowed URL, decided before anything else.
    if (!return_url_allowed(return_to, c.settings.allowed_return_urls))
        return refuse(c, req, "open_redirect", "return_to '" + return_to.substr(0, 200) + "' is not an allowed URL");
    const std::string state = core::base64url_encode(core::random_bytes(32));
    const std::string nonce = core::base64url_encode(core::random_bytes(32));
    const std::string verifier = core::base64url_encode(core::random_bytes(32));  // RFC 7636 §4.1: 43 chars
    store::sign_in_state s;
    s.id = core::sha256_hex(state);  // the database never holds a usable state
    s.organization_id = c.organization.id;
    s.connection = c.idp.config().name;
    s.protocol = "oidc";
    s.nonce = nonce;
    s.code_verifier = verifier;
    s.return_to = return_to;
    s.created = c.clock.now();
    s.expires = s.created + std::chrono::seconds(c.settings.state_ttl_seconds);
    try {
        const auto url = c.idp.authorization_url(c.redirect_uri, state, nonce,
                                                 core::base64url_encode(core::sha256(verifier)));
        if (!c.db.identities().save_sign_in_state(s)) throw std::runtime_error("could not store the sign-in state");
        return accounts::redirect_to(url);
    } catch (const sign_in_error& e) {
        return refuse(c, req, e.code(), e.what());
    }
}

core::response callback(const context& c, const core::request& req) {
    const auto state = query(req, "state");
    if (state.empty()) return refuse(c, req, "state_missing", "the callback carries no state");
    // The state is single use and bound to this connection: a replayed or forged callback stops here.
    auto taken = c.db.identities().take_sign_in_state(core::sha256_hex(state));
    if (!taken) {
        const auto code = taken.error() == store::errc::already_used ? "state_reused"
                          : taken.error() == store::errc::expired   ? "state_expired"
                                                                    : "state_unknown";
        return refuse(c, req, code, "the sign-in state is " + taken.error().message());
    }
    if (taken->connection != c.idp.config().name || taken->protocol != "oidc" ||
        taken->organization_id != c.organization.id)
        return refuse(c, req, "state_unknown", "the state belongs to another connection");
    try {
        // RFC 9207 §2.4: the provider says who answered; it must be ours (mix-up defence), and a provider
        // that announces the parameter must send it.
        const auto iss = req.query_param("iss");
        if (iss && *iss != c.idp.config().issuer)
            throw sign_in_error("issuer_mismatch", "the authorization response comes from '" + std::string(*iss) + "'");
        if (!iss && c.idp.current_endpoints().iss_parameter_supported)
            throw sign_in_error("issuer_mismatch", "the provider announces RFC 9207 but its response carries no 'iss'");
        if (const auto error = req.query_param("error"))
            throw sign_in_error("idp_error", "the identity provider answered '" + std::string(*error) + "': " +
                                                 query(req, "error_description").substr(0, 300));
        const auto code = query(req, "code");
        if (code.empty()) throw sign_in_error("missing_code", "the callback carries no authorization code");
        const auto tokens = c.idp.exchange_code(code, taken->code_verifier, c.redirect_uri);
        auto claims = c.idp.validate_id_token(tokens.id_token, taken->nonce);
        if (c.idp.config().userinfo) {
            // Userinfo adds claims; the ID token's, which are signed, win where both speak.
            auto extra = c.idp.userinfo(tokens.access_token, claim_text(claims, "sub"));
            for (const auto& [key, value] : extra)
                if (!claims.contains(key)) claims[key] = value;
        }
        const auto subject = subject_of(c.idp.config(), claims);
        const provisioning::connection_ref connection{c.organization.id, c.organization.slug, c.connection_id,
                                                      c.idp.config().name};
        const auto result = provisioning::sign_in(c.db, c.reconciler, c.rules, connection, subject,
                                                  identity_from_claims(claims), actor_of(c, req, subject));
        if (!result.ok()) return refuse(c, req, result.failure, result.detail, result.user_id);
        const auto session = accounts::start_sso_session(
            c.db, c.clock,
            {c.organization.id, result.user_id, result.user_name, c.connection_id, claim_text(claims, "sid"), "oidc"},
            req);
        core::log::info("oidc sign-in", {{"connection", c.idp.config().name}, {"user", result.user_name}});
        auto r = accounts::redirect_to(taken->return_to);
        r.headers.emplace_back("Set-Cookie", session.set_cookie);
        return r;
    } catch (const sign_in_error& e) {
        return refuse(c, req, e.code(), e.what());
    }
}

core::response logout(const context& c, const core::request& req) {
    if (const auto secret = accounts::session_secret_of(req))
        if (const auto s = c.db.local_accounts().find_session(core::sha256_hex(*secret)))
            (void)c.db.local_accounts().end_session(s->id);
    std::string after = query(req, "return_to");
    if (after.empty() || !return_url_allowed(after, c.settings.allowed_return_urls)) after = c.settings.default_return_url;
    std::string target = after;
    try {
        // RP-initiated logout: the provider ends its session too, then sends the browser back.
        const std::string absolute = !after.empty() && after.front() == '/' ? c.public_base + after : after;
        if (const auto url = c.idp.end_session_url(absolute); !url.empty()) target = url;
    } catch (const sign_in_error& e) {
        core::log::warn("oidc logout: provider unreachable; ended the local session only", {{"detail", e.what()}});
    }
    auto r = accounts::redirect_to(target);
    r.headers.emplace_back("Set-Cookie", accounts::cleared_session_cookie());
    return r;
}

core::response backchannel_logout(const context& c, const core::request& req) {
    // Back-Channel Logout 1.0 §2.8: 200 when done, 400 with an OAuth error body when the token is bad.
    const auto bad = [&](const std::string& code, const std::string& detail) {
        core::log::warn("oidc back-channel logout refused", {{"connection", c.idp.config().name}, {"reason", code},
                                                             {"detail", detail}});
        auto r = core::response::json(400, boost::json::serialize(boost::json::object{
                                               {"error", "invalid_request"}, {"error_description", code}}));
        r.headers.emplace_back("Cache-Control", "no-store");
        return r;
    };
    const auto form = core::parse_form(req.body);
    if (!form) return bad("malformed_body", "the body is not a form");
    std::string token;
    for (const auto& [name, value] : *form)
        if (name == "logout_token") token = value;
    if (token.empty()) return bad("missing_logout_token", "no logout_token in the body");
    try {
        const auto claims = c.idp.validate_logout_token(token);
        const auto sid = claim_text(claims, "sid");
        std::string user_id;
        if (!claim_text(claims, "sub").empty()) {
            // The user is bound by the key sign-in used: the mapped external_id when the rules map one
            // (from sub, typically), else iss|sub.
            std::string key = subject_of(c.idp.config(), claims);
            if (const auto* file = c.rules->find(c.organization.slug, c.idp.config().name)) {
                const auto outcome = mapping::evaluate(file->rules, identity_from_claims(claims));
                if (const auto mapped = outcome.fields.find(mapping::field::external_id); mapped != outcome.fields.end())
                    key = mapped->second;
            }
            user_id = c.db.identities().bound_user(c.connection_id, key).value_or("");
        }
        const auto ended = c.db.identities().end_idp_sessions(c.connection_id, sid, user_id);
        c.db.record_audit(c.organization.id, actor_of(c, req), "sign_in.backchannel_logout", "user", user_id, "",
                          boost::json::serialize(boost::json::object{{"sid", sid}, {"sessions_ended", ended}}));
        auto r = core::response::json(200, "{}");
        r.headers.emplace_back("Cache-Control", "no-store");
        return r;
    } catch (const sign_in_error& e) {
        return bad(e.code(), e.what());
    }
}

}  // namespace idgate::oidc
