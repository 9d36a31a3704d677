// SPDX-License-Identifier: AGPL-3.0-or-later
#include "saml/handlers.hpp"

#include <boost/json/serialize.hpp>

#include "core/crypto.hpp"
#include "core/form.hpp"
#include "core/log.hpp"
#include "provisioning/sign_in.hpp"
#include "saml/logout.hpp"
#include "saml/response.hpp"
#include "store/accounts.hpp"
#include "store/provisioning.hpp"

namespace idgate::saml {
namespace {

schema::actor actor_of(const context& c, const core::request& req, const std::string& who = "") {
    return {"sso", who, "saml connection " + c.connection.name, req.client_address, req.request_id, c.connection_id};
}

core::response refuse(const context& c, const core::request& req, const std::string& code, const std::string& detail) {
    core::log::warn("saml sign-in refused", {{"connection", c.connection.name},
                                             {"reason", code},
                                             {"detail", detail},
                                             {"reference", req.request_id}});
    accounts::record_failed_sso_sign_in(c.db, c.clock, {c.organization.id, "", "", c.connection_id, "", "saml"}, code, req);
    c.db.record_audit(c.organization.id, actor_of(c, req), "sign_in.refused", "connection", c.connection_id,
                      c.connection.name,
                      boost::json::serialize(boost::json::object{
                          {"protocol", "saml"}, {"reason", code}, {"detail", detail}, {"reference", req.request_id}}));
    return accounts::sign_in_failure_page(req.request_id);
}

// The assertion as mapping input: its attributes by Name; groups from the connection's group attributes,
// unknown when none is sent or Entra ID signals an overage (groups.link, INTEROP S2).
mapping::identity identity_of(const assertion& a, const connection_config& config) {
    mapping::identity who;
    who.attributes = a.attributes;
    who.attributes["NameID"] = {a.name_id};
    const bool overage = a.attributes.count("http://schemas.microsoft.com/claims/groups.link") > 0;
    for (const auto& name : config.groups_attributes) {
        const auto found = a.attributes.find(name);
        if (found == a.attributes.end() || overage) continue;
        if (!who.groups) who.groups.emplace();
        who.groups->insert(who.groups->end(), found->second.begin(), found->second.end());
    }
    return who;
}

// A single-use handle on a sign-in or logout this connection starts: returns the RelayState that carries
// it; the database keeps its digest with the request id (which must come back as InResponseTo) and where
// to return.
std::string start_state(const context& c, const std::string& request_id, const std::string& return_to) {
    const std::string relay_state = core::base64url_encode(core::random_bytes(32));
    store::sign_in_state s;
    s.id = core::sha256_hex(relay_state);
    s.organization_id = c.organization.id;
    s.connection = c.connection.name;
    s.protocol = "saml";
    s.nonce = request_id;
    s.return_to = return_to;
    s.created = c.clock.now();
    s.expires = s.created + std::chrono::seconds(c.settings.state_ttl_seconds);
    if (!c.db.identities().save_sign_in_state(s)) throw std::runtime_error("could not store the sign-in state");
    return relay_state;
}

// A message to the IdP by the binding its endpoint takes, signed with the connection's key when it has one.
core::response send_to_idp(const context& c, binding how, const std::string& endpoint, const char* parameter,
                           const std::string& xml, const std::string& relay_state) {
    if (how == binding::redirect)
        return accounts::redirect_to(redirect_url(endpoint, parameter, xml, relay_state, c.connection.sp_private_key_pem));
    const auto form = post_message(endpoint, parameter, xml, relay_state, c.connection.sp_private_key_pem,
                                   c.connection.sp_certificate_pem);
    return accounts::auto_post_page(form.action, form.fields);
}

std::string new_request_id() { return "_" + core::sha256_hex(core::random_bytes(32)).substr(0, 40); }

}  // namespace

core::response metadata(const context& c, const core::request&) {
    core::response r;
    r.content_type = "application/samlmetadata+xml";
    r.body = sp_metadata(c.sp_entity_id, c.acs_url,
                         c.connection.name_id_format, c.connection.sp_certificate_pem,
                         c.slo_url);
    return r;
}

core::response login(const context& c, const core::request& req) {
    std::string return_to{req.query_param("return_to").value_or("")};
    if (return_to.empty()) return_to = c.settings.default_return_url;
    if (!accounts::return_url_allowed(return_to, c.settings.allowed_return_urls))
        return refuse(c, req, "open_redirect", "return_to '" + return_to.substr(0, 200) + "' is not an allowed URL");
    // The request id comes back as InResponseTo; RelayState is an opaque, single-use handle on this
    // sign-in (never the return URL itself: SAML bindings §3.4.3 allows 80 bytes, and it is not signed).
    const std::string request_id = new_request_id();
    const std::string relay_state = start_state(c, request_id, return_to);
    return send_to_idp(c, c.connection.sso_binding, c.connection.sso_url, "SAMLRequest",
                       authn_request_xml(c.connection.sso_url, request_id, c.sp_entity_id,
                                         c.acs_url, c.connection.name_id_format,
                                         c.clock.now()),
                       relay_state);
}

core::response acs(const context& c, const core::request& req) {
    const auto form = core::parse_form(req.body);
    if (!form) return refuse(c, req, "malformed_response", "the body is not a form");
    std::string response_field, relay_state;
    for (const auto& [name, value] : *form) {
        if (name == "SAMLResponse") response_field = value;
        else if (name == "RelayState") relay_state = value;
    }
    if (response_field.empty()) return refuse(c, req, "malformed_response", "no SAMLResponse in the form");
    try {
        expectations e;
        e.sp_entity_id = c.sp_entity_id;
        e.acs_url = c.acs_url;
        e.now = c.clock.now();
        e.skew = std::chrono::seconds(c.settings.clock_skew_seconds);
        e.allow_unsolicited = c.connection.allow_idp_initiated;
        std::string return_to = c.settings.default_return_url;
        if (!relay_state.empty()) {
            // SP-initiated: our single-use state says which request this answers and where to go after.
            auto taken = c.db.identities().take_sign_in_state(core::sha256_hex(relay_state));
            if (taken && taken->connection == c.connection.name && taken->protocol == "saml") {
                e.in_response_to = taken->nonce;
                return_to = taken->return_to;
            } else if (taken || taken.error() != store::errc::not_found || !c.connection.allow_idp_initiated) {
                const auto code = !taken && taken.error() == store::errc::already_used ? "state_reused"
                                  : !taken && taken.error() == store::errc::expired   ? "state_expired"
                                                                                      : "state_unknown";
                throw saml_error(code, "the RelayState is not a sign-in this connection started");
            }
            // IdP-initiated with a RelayState of the IdP's own: it is only a return URL if allowed.
            else if (accounts::return_url_allowed(relay_state, c.settings.allowed_return_urls)) {
                return_to = relay_state;
            }
        }
        const idp_trust trust{c.connection.idp_entity_id, c.connection.certificates_pem, c.connection.allow_sha1,
                              c.connection.sp_private_key_pem};
        const auto a = validate_response(decode_post_binding(response_field), trust, e);
        // One use per assertion, on every node (the cache lives in the database).
        if (!c.db.identities().remember_assertion(c.connection_id, a.id, a.valid_until))
            throw saml_error("replayed", "assertion '" + a.id + "' was already used");
        const provisioning::connection_ref connection{c.organization.id, c.organization.slug, c.connection_id,
                                                      c.connection.name};
        const auto result = provisioning::sign_in(c.db, c.reconciler, c.rules, connection, a.name_id,
                                                  identity_of(a, c.connection), actor_of(c, req, a.name_id));
        if (!result.ok()) return refuse(c, req, result.failure, result.detail);
        const auto session = accounts::start_sso_session(
            c.db, c.clock,
            {c.organization.id, result.user_id, result.user_name, c.connection_id, a.session_index, "saml", a.name_id,
             a.name_id_format},
            req);
        core::log::info("saml sign-in", {{"connection", c.connection.name}, {"user", result.user_name}});
        auto r = accounts::redirect_to(return_to);
        r.headers.emplace_back("Set-Cookie", session.set_cookie);
        return r;
    } catch (const saml_error& e) {
        return refuse(c, req, e.code(), e.what());
    }
}

core::response logout(const context& c, const core::request& req) {
    std::string return_to{req.query_param("return_to").value_or("")};
    if (return_to.empty() || !accounts::return_url_allowed(return_to, c.settings.allowed_return_urls))
        return_to = c.settings.default_return_url;
    std::optional<schema::session> session;
    if (const auto secret = accounts::session_secret_of(req)) {
        session = c.db.local_accounts().find_session(core::sha256_hex(*secret));
        if (session) (void)c.db.local_accounts().end_session(session->id);
    }
    std::optional<core::response> to_the_idp;
    // Single Logout at the IdP (profiles §4.4.4.1) for a session this connection started, when it offers it.
    if (session && session->connection_id == c.connection_id && !c.connection.slo_url.empty()) {
        // The NameID as the IdP issued it, format included (SAML core §3.7.1).
        std::string name_id = session->idp_subject, name_id_format = session->idp_subject_format;
        if (name_id.empty()) {
            name_id_format = c.connection.name_id_format;
            // A session from before idgate recorded its NameID: the one of the user's last sign-in.
            if (const auto said = c.db.identities().sign_in_identity(c.connection_id, session->user_id)) {
                const auto who = provisioning::identity_from_stored_json(*said);
                if (const auto n = who.attributes.find("NameID"); n != who.attributes.end() && !n->second.empty())
                    name_id = n->second.front();
            }
        }
        if (!name_id.empty()) {
            const std::string request_id = new_request_id();
            const std::string relay_state = start_state(c, request_id, return_to);
            to_the_idp = send_to_idp(c, c.connection.slo_binding, c.connection.slo_url, "SAMLRequest",
                                     logout_request_xml(request_id, c.connection.slo_url,
                                                        c.sp_entity_id, name_id,
                                                        name_id_format, session->idp_session,
                                                        c.clock.now()),
                                     relay_state);
        }
    }
    auto r = to_the_idp ? std::move(*to_the_idp) : accounts::redirect_to(return_to);
    r.headers.emplace_back("Set-Cookie", accounts::cleared_session_cookie());
    return r;
}

core::response single_logout(const context& c, const core::request& req) {
    try {
        // A LogoutRequest must be signed by the IdP (anyone could otherwise end anyone's sessions); a
        // LogoutResponse only sends the browser back to where its logout started.
        // Either binding (our metadata offers both at this URL): Redirect on GET, POST on POST.
        const auto message = req.verb == core::method::post
                                 ? read_post(req.body, c.connection.certificates_pem, c.connection.allow_sha1)
                                 : read_redirect(req.raw_query, c.connection.certificates_pem, false,
                                                 c.connection.allow_sha1);
        if (!message.is_request) {
            const auto response = parse_logout_response(message.xml);
            std::string return_to = c.settings.default_return_url;
            if (auto taken = c.db.identities().take_sign_in_state(core::sha256_hex(message.relay_state));
                taken && taken->connection == c.connection.name && taken->nonce == response.in_response_to)
                return_to = taken->return_to;
            if (response.status != "urn:oasis:names:tc:SAML:2.0:status:Success")
                core::log::warn("saml logout: the IdP reports a partial logout",
                                {{"connection", c.connection.name}, {"status", response.status}});
            return accounts::redirect_to(return_to);
        }
        if (!message.signature_verified) throw saml_error("unsigned", "the LogoutRequest is not signed");
        const auto request = parse_logout_request(message.xml);
        if (request.issuer != c.connection.idp_entity_id)
            throw saml_error("wrong_issuer", "the LogoutRequest comes from '" + request.issuer + "'");
        std::int64_t ended = 0;
        for (const auto& index : request.session_indexes)
            ended += c.db.identities().end_idp_sessions(c.connection_id, index, "");
        if (request.session_indexes.empty()) {
            // No SessionIndex (Entra ID sends none): every session this connection started for the NameID,
            // and -- for sessions from before idgate recorded it -- those of the user bound to it.
            ended += c.db.identities().end_subject_sessions(c.connection_id, request.name_id);
            if (const auto user = c.db.identities().bound_user(c.connection_id, request.name_id))
                ended += c.db.identities().end_idp_sessions(c.connection_id, "", *user);
        }
        c.db.record_audit(c.organization.id, actor_of(c, req), "sign_in.single_logout", "connection", c.connection_id,
                          c.connection.name,
                          boost::json::serialize(boost::json::object{{"name_id", request.name_id}, {"sessions_ended", ended}}));
        if (c.connection.slo_url.empty()) return accounts::redirect_to(c.settings.default_return_url);
        return send_to_idp(c, c.connection.slo_binding, c.connection.slo_url, "SAMLResponse",
                           logout_response_xml(new_request_id(), c.connection.slo_url,
                                               c.sp_entity_id, request.id, c.clock.now()),
                           message.relay_state);
    } catch (const saml_error& e) {
        return refuse(c, req, e.code(), e.what());
    }
}

}  // namespace idgate::saml
