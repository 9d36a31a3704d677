// SPDX-License-Identifier: AGPL-3.0-or-later
// Every URL the gateway serves, on one screen.
#include "routes.hpp"

#include "handlers.hpp"

namespace idgate::gateway {

accounts::idp_policy idp_policy_for(const mapping::snapshot& rules, std::string_view organization_slug) {
    accounts::idp_policy p;
    const auto owned_by = [](std::string& owner, bool allowed, const std::string& connection) {
        if (!allowed && owner.empty()) owner = connection;
    };
    for (const auto& f : rules.files) {
        if (f.organization != organization_slug) continue;
        for (const auto field : f.policy.locked_fields)
            if (!p.locked(mapping::to_string(field)))
                p.locked_fields.emplace_back(std::string(mapping::to_string(field)), f.connection);
        owned_by(p.authorization_by, !f.policy.authorization_external, f.connection);
        owned_by(p.create_by, f.policy.allow_local_create, f.connection);
        owned_by(p.invite_by, f.policy.allow_local_invite, f.connection);
        owned_by(p.delete_by, f.policy.allow_local_delete, f.connection);
        owned_by(p.password_by, f.policy.allow_local_password, f.connection);
        owned_by(p.mfa_by, f.policy.allow_local_mfa, f.connection);
    }
    return p;
}

namespace urls {
std::string organization(std::string_view id) { return "/api/v1/organizations/" + std::string(id); }
std::string scim_base(std::string_view organization_slug) { return "/scim/v2/" + std::string(organization_slug); }
std::string oidc_endpoint(std::string_view connection, std::string_view leaf) {
    return "/sso/oidc/" + std::string(connection) + "/" + std::string(leaf);
}
std::string saml_endpoint(std::string_view connection, std::string_view leaf) {
    return "/sso/saml/" + std::string(connection) + "/" + std::string(leaf);
}
std::string public_url(std::string_view base, std::string_view path) {
    if (!base.empty() && base.back() == '/') base.remove_suffix(1);
    return std::string(base) + std::string(path);
}
std::string scim_endpoint(std::string_view base, std::string_view organization_slug) {
    return public_url(base, scim_base(organization_slug));
}
}  // namespace urls

void add_routes(router& r, services& s) {
    using core::method;
    namespace h = handlers;
    const route_options ops_inline{auth_policy::none, error_style::json, execution::io_thread, 0};
    const route_options ops_blocking{auth_policy::none, error_style::json, execution::blocking, 0};
    // Admin API bodies are small JSON documents.
    const route_options admin{auth_policy::instance_admin, error_style::json, execution::blocking, 64 * 1024};

    r.set_authenticator([&s](const core::request& req, auth_policy p) { return h::authenticate(s, req, p); },
                        [&s](const core::request& req, auth_policy p) { return h::authenticate_without_blocking(s, req, p); });

    // Operations: liveness must not depend on the database; readiness must.
    r.add(method::get, "/healthz", ops_inline, [](core::request& q) { return h::healthz(q); });
    r.add(method::get, "/readyz", ops_blocking, [&s](core::request& q) { return h::readyz(s, q); });
    r.add(method::get, "/metrics", ops_inline, [&s](core::request& q) { return h::metrics_text(s, q); });
    r.add(method::get, "/api/v1/version", ops_inline, [](core::request& q) { return h::version(q); });

    // Instance administration.
    r.add(method::get, "/api/v1/organizations", admin, [&s](core::request& q) { return h::list_organizations(s, q); });
    r.add(method::post, "/api/v1/organizations", admin, [&s](core::request& q) { return h::create_organization(s, q); });
    r.add(method::get, "/api/v1/organizations/{org}", admin,
          [&s](core::request& q) { return h::get_organization(s, q); });
    r.add(method::get, "/api/v1/organizations/{org}/audit", admin,
          [&s](core::request& q) { return h::list_audit(s, q); });
    r.add(method::get, "/api/v1/organizations/{org}/changes", admin,
          [&s](core::request& q) { return h::list_changes(s, q); });
    r.add(method::post, "/api/v1/organizations/{org}/scim-tokens", admin,
          [&s](core::request& q) { return h::create_scim_token(s, q); });
    r.add(method::get, "/api/v1/organizations/{org}/scim-tokens", admin,
          [&s](core::request& q) { return h::list_scim_tokens(s, q); });
    r.add(method::del, "/api/v1/organizations/{org}/scim-tokens/{id}", admin,
          [&s](core::request& q) { return h::revoke_scim_token(s, q); });
    // An organisation's first user (its owner) is invited by the instance administrator.
    r.add(method::post, "/api/v1/organizations/{org}/users", admin,
          [&s](core::request& q) { return h::bootstrap_user(s, q); });

    // Mapping rules (instance-wide: one directory, a file per IdP connection).
    r.add(method::get, "/api/v1/mapping", admin, [&s](core::request& q) { return h::mapping_status(s, q); });
    r.add(method::post, "/api/v1/mapping/reload", admin, [&s](core::request& q) { return h::mapping_reload(s, q); });
    r.add(method::post, "/api/v1/mapping/explain", admin, [&s](core::request& q) { return h::mapping_explain(s, q); });

    // Single sign-on (OpenID Connect). Browsers arrive here: refusals are a plain page (the modules render
    // it), unknown connections a 404. A back-channel logout token is a small form.
    const route_options browser{auth_policy::none, error_style::json, execution::blocking, 16 * 1024};
    const auto add_oidc = [&](method m, const std::string& path, h::oidc_handler fn) {
        r.add(m, path, browser, [&s, fn](core::request& q) { return h::oidc(s, q, fn); });
    };
    add_oidc(method::get, urls::oidc_endpoint("{connection}", "login"), idgate::oidc::login);
    add_oidc(method::get, urls::oidc_endpoint("{connection}", "callback"), idgate::oidc::callback);
    add_oidc(method::get, urls::oidc_endpoint("{connection}", "logout"), idgate::oidc::logout);
    add_oidc(method::post, urls::oidc_endpoint("{connection}", "backchannel-logout"), idgate::oidc::backchannel_logout);
    // SAML: a signed response with a few dozen attributes is well under 256 KB (the validator's limit).
    const route_options saml_post{auth_policy::none, error_style::json, execution::blocking, 384 * 1024};
    const auto add_saml = [&](method m, const std::string& path, h::saml_handler fn, const route_options& o) {
        r.add(m, path, o, [&s, fn](core::request& q) { return h::saml(s, q, fn); });
    };
    add_saml(method::get, urls::saml_endpoint("{connection}", "metadata"), idgate::saml::metadata, browser);
    add_saml(method::get, urls::saml_endpoint("{connection}", "login"), idgate::saml::login, browser);
    add_saml(method::post, urls::saml_endpoint("{connection}", "acs"), idgate::saml::acs, saml_post);
    add_saml(method::get, urls::saml_endpoint("{connection}", "logout"), idgate::saml::logout, browser);
    add_saml(method::get, urls::saml_endpoint("{connection}", "slo"), idgate::saml::single_logout, browser);
    add_saml(method::post, urls::saml_endpoint("{connection}", "slo"), idgate::saml::single_logout, saml_post);

    // Local user management: the organisation of the signed-in user.
    namespace acc = idgate::accounts;
    const route_options signed_in{auth_policy::session, error_style::json, execution::blocking, 64 * 1024};
    const route_options public_json{auth_policy::none, error_style::json, execution::blocking, 16 * 1024};
    const auto add_session = [&](method m, const char* path, acc::handler fn,
                                 acc::mfa_gate gate = acc::mfa_gate::enforce) {
        r.add(m, path, signed_in,
              [&s, fn, gate](core::request& q) { return acc::with_session(s.db, s.clock, s.mail, s.secrets, &s.idp_policies, q, fn, gate); });
    };
    const auto add_public = [&](method m, const char* path, acc::handler fn) {
        r.add(m, path, public_json, [&s, fn](core::request& q) { return acc::without_session(s.db, s.clock, s.mail, s.secrets, &s.idp_policies, q, fn); });
    };
    add_public(method::post, "/api/v1/login", acc::login);
    add_public(method::post, "/api/v1/login/mfa", acc::login_mfa);
    add_public(method::post, "/api/v1/invitations/accept", acc::accept_invitation);
    add_public(method::post, "/api/v1/password-resets/complete", acc::complete_password_reset);
    add_public(method::post, "/api/v1/email-changes/confirm", acc::confirm_email_change);
    add_session(method::post, "/api/v1/logout", acc::logout, acc::mfa_gate::exempt);
    add_session(method::get, "/api/v1/me", acc::me, acc::mfa_gate::exempt);
    add_session(method::post, "/api/v1/me/password", acc::change_password, acc::mfa_gate::exempt);
    add_session(method::post, "/api/v1/me/mfa", acc::start_mfa, acc::mfa_gate::exempt);
    add_session(method::post, "/api/v1/me/mfa/confirm", acc::confirm_mfa, acc::mfa_gate::exempt);
    add_session(method::post, "/api/v1/me/mfa/recovery-codes", acc::regenerate_recovery_codes, acc::mfa_gate::exempt);
    add_session(method::get, "/api/v1/users", acc::list_users);
    add_session(method::post, "/api/v1/users/invitations", acc::invite_users);
    add_session(method::get, "/api/v1/users/{id}", acc::get_user);
    add_session(method::patch, "/api/v1/users/{id}", acc::update_user);
    add_session(method::del, "/api/v1/users/{id}", acc::delete_user);
    add_session(method::post, "/api/v1/users/{id}/erase", acc::erase_user);
    add_session(method::post, "/api/v1/users/{id}/invitation", acc::resend_invitation);
    add_session(method::put, "/api/v1/users/{id}/role", acc::set_role);
    add_session(method::put, "/api/v1/users/{id}/permissions", acc::set_permissions);
    add_session(method::post, "/api/v1/users/{id}/disable", acc::disable_user);
    add_session(method::post, "/api/v1/users/{id}/enable", acc::enable_user);
    add_session(method::del, "/api/v1/users/{id}/sessions", acc::end_sessions);
    add_session(method::post, "/api/v1/users/{id}/password-reset", acc::reset_password);
    add_session(method::del, "/api/v1/users/{id}/mfa", acc::reset_mfa);
    add_session(method::get, "/api/v1/users/{id}/logins", acc::user_logins);
    add_session(method::put, "/api/v1/users/{id}/scoped-roles/{scope}", acc::set_scoped_role);
    add_session(method::del, "/api/v1/users/{id}/scoped-roles/{scope}", acc::remove_scoped_role);
    add_session(method::put, "/api/v1/users/{id}/custom-roles", acc::set_custom_roles);
    add_session(method::get, "/api/v1/workspaces", acc::list_workspaces);
    add_session(method::post, "/api/v1/workspaces", acc::create_workspace);
    add_session(method::del, "/api/v1/workspaces/{id}", acc::delete_workspace);
    add_session(method::get, "/api/v1/projects", acc::list_projects);
    add_session(method::post, "/api/v1/projects", acc::create_project);
    add_session(method::del, "/api/v1/projects/{id}", acc::delete_project);
    add_session(method::get, "/api/v1/roles", acc::list_roles);
    add_session(method::post, "/api/v1/roles", acc::create_role);
    add_session(method::del, "/api/v1/roles/{name}", acc::delete_role);
    add_session(method::put, "/api/v1/sso", acc::set_sso_mode);
    add_session(method::put, "/api/v1/users/{id}/break-glass", acc::set_break_glass);
    add_session(method::get, "/api/v1/settings", acc::get_settings);
    add_session(method::patch, "/api/v1/settings", acc::update_settings);
    add_session(method::get, "/api/v1/permissions", acc::list_permissions);
    add_session(method::post, "/api/v1/permissions", acc::define_permission);
    add_session(method::post, "/api/v1/ownership-transfer", acc::transfer_ownership);
    add_session(method::get, "/api/v1/audit", acc::audit);
    add_session(method::get, "/api/v1/identity-conflicts", acc::list_identity_conflicts);
    add_session(method::get, "/api/v1/identity-conflicts/{id}", acc::get_identity_conflict);
    add_session(method::post, "/api/v1/identity-conflicts/{id}/approve", acc::approve_identity_conflict);
    add_session(method::post, "/api/v1/identity-conflicts/{id}/reject", acc::reject_identity_conflict);

    // SCIM 2.0 (RFC 7644), one base URL per organisation. Bodies up to 1 MiB: a large group's members.
    const route_options scim{auth_policy::scim_client, error_style::scim, execution::blocking,
                             idgate::scim::bulk_max_payload};
    const auto add_scim = [&](method m, const std::string& path, h::scim_handler fn,
                              std::optional<one_user_read> user_read = std::nullopt) {
        r.add(m, "/scim/v2/{org}" + path, scim, [&s, fn](core::request& q) { return h::scim(s, q, fn); },
              std::move(user_read));
    };
    namespace users = idgate::scim::users;
    // A user by id, and the `userName eq` existence check, are read without a blocking thread when the
    // storage can (PostgreSQL's pipelined reads); the handlers answer otherwise.
    add_scim(method::get, "/Users", users::list, h::scim_one_user_read(s, users::list_key, users::answer_list));
    add_scim(method::post, "/Users", users::create);
    add_scim(method::post, "/Users/.search", users::search);
    add_scim(method::get, "/Users/{id}", users::get,
             h::scim_one_user_read(
                 s, [](const idgate::scim::context& c, const core::request& q) -> std::optional<store::user_key> {
                     return users::get_key(c, q);
                 },
                 users::answer_get));
    add_scim(method::put, "/Users/{id}", users::replace);
    add_scim(method::patch, "/Users/{id}", users::patch);
    add_scim(method::del, "/Users/{id}", users::remove);
    namespace groups = idgate::scim::groups;
    add_scim(method::get, "/Groups", groups::list);
    add_scim(method::post, "/Groups", groups::create);
    add_scim(method::get, "/Groups/{id}", groups::get);
    add_scim(method::put, "/Groups/{id}", groups::replace);
    add_scim(method::patch, "/Groups/{id}", groups::patch);
    add_scim(method::del, "/Groups/{id}", groups::remove);
    add_scim(method::post, "/Bulk", idgate::scim::bulk);  // body limit = the advertised maxPayloadSize
    // Discovery reads no database: with the caller's token in the cache it is answered on the I/O
    // thread, without the round trip through the blocking pool.
    route_options discovery = scim;
    discovery.where = execution::io_thread_when_authenticated;
    const auto add_discovery = [&](const std::string& path, h::scim_handler fn) {
        r.add(method::get, "/scim/v2/{org}" + path, discovery, [&s, fn](core::request& q) { return h::scim(s, q, fn); });
    };
    add_discovery("/ServiceProviderConfig", idgate::scim::service_provider_config);
    add_discovery("/ResourceTypes", idgate::scim::resource_types);
    add_discovery("/Schemas", idgate::scim::schemas);
    add_discovery("/Schemas/{id}", idgate::scim::schema_by_id);
}

}  // namespace idgate::gateway
