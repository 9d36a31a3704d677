// SPDX-License-Identifier: AGPL-3.0-or-later
// Instance administration: organisations (tenants), their audit trail and change feed.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <charconv>

#include "accounts/service.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "mapping/explain.hpp"
#include "oidc/validation.hpp"
#include "core/json_body.hpp"
#include "handlers.hpp"
#include "store/provisioning.hpp"
#include "routes.hpp"
#include "tokens.hpp"

namespace idgate::gateway::handlers {
namespace {

schema::actor actor_of(const core::request& req) {
    const char* kind = req.caller.type == core::principal::kind::instance_admin ? "instance_admin" : "anonymous";
    return {kind, req.caller.id, req.caller.display, req.client_address, req.request_id};
}

boost::json::object organization_json(const schema::organization& o) {
    return {{"id", o.id},
            {"slug", o.slug},
            {"name", o.name},
            {"sso", schema::to_string(o.sso)},
            {"created", core::format_timestamp(o.created)},
            {"updated", core::format_timestamp(o.updated)},
            {"version", o.version}};
}

core::http_error invalid_field(std::string_view field, std::string message) {
    return core::http_error(400, "invalid_field", "'" + std::string(field) + "': " + message);
}

// {org} may be the id or the slug.
schema::organization resolve_organization(services& s, std::string_view key) {
    auto org = s.db.find_organization_by_slug(key);
    if (!org) org = s.db.get_organization(key);
    if (!org) throw core::http_error(404, "not_found", "no organization '" + std::string(key) + "'");
    return *org;
}

}  // namespace

namespace {

// RFC 6750 §3: a 401 carries WWW-Authenticate naming the scheme (and the error, when a token was
// presented).
core::http_error challenge(std::string error, std::string detail) {
    std::string value = "Bearer realm=\"idgate\"";
    if (!error.empty()) value += ", error=\"" + error + "\"";
    return core::http_error(401, "unauthorized", std::move(detail)).with_header("WWW-Authenticate", value);
}

bool looks_like_jwt(std::string_view token) {
    return token.rfind("eyJ", 0) == 0 && std::count(token.begin(), token.end(), '.') == 2;
}

// A JWT the identity provider issued itself (INTEROP E12, config scim.jwt_bearer): the unverified `iss`
// picks the issuer's verifier; its signature (the issuer's JWKS) and claims decide. Accepted, it stands
// for a SCIM token of the configured organisation and connection until its `exp`. Blocks (JWKS fetch).
std::optional<schema::api_token> jwt_bearer_token(services& s, const std::string& jwt) {
    std::string iss;
    try {
        const auto payload = boost::json::parse(oidc::split_jws(jwt).payload_json);
        if (payload.is_object()) iss = oidc::claim_text(payload.as_object(), "iss");
    } catch (const std::exception&) {
        return std::nullopt;
    }
    for (auto& issuer : s.scim_jwt) {
        if (issuer.verifier->config().issuer != iss) continue;
        boost::json::object claims;
        try {
            claims = issuer.verifier->validate_bearer_token(jwt, issuer.tenant_id);
        } catch (const oidc::sign_in_error& e) {
            core::log::info("SCIM bearer JWT refused", {{"issuer", iss}, {"reason", e.code()}, {"detail", e.what()}});
            throw challenge("invalid_token", "the bearer token was refused (" + e.code() + "): " + e.what());
        }
        const auto org = s.db.find_organization_by_slug(issuer.organization);
        if (!org) throw challenge("invalid_token", "the organization '" + issuer.organization + "' this issuer is "
                                                   "configured for does not exist");
        schema::api_token t;
        t.kind = schema::token_kind::scim;
        t.organization_id = org->id;
        t.organization_slug = org->slug;
        // Who called, for the audit trail: Entra names its application (appid), RFC 9068 the client.
        std::string caller = oidc::claim_text(claims, "appid");
        if (caller.empty()) caller = oidc::claim_text(claims, "client_id");
        if (caller.empty()) caller = oidc::claim_text(claims, "sub");
        t.id = "jwt:" + caller;
        t.name = "JWT of " + iss + (caller.empty() ? "" : " for " + caller);
        if (!issuer.connection.empty()) {
            const schema::actor system{"system", "", "idgate", "", "", ""};
            const auto connection = s.db.identities().ensure_connection(org->id, issuer.connection, system);
            if (!connection) throw core::http_error(500, "internal_error", "the IdP connection could not be resolved");
            t.connection_id = connection->id;
            t.connection_name = connection->name;
        }
        if (const auto* exp = claims.if_contains("exp"); exp && exp->is_number())
            t.expires = core::time_point(std::chrono::seconds(exp->to_number<std::int64_t>()));
        return t;
    }
    return std::nullopt;
}

// The bearer token of `req`, resolved through the token cache and, when `may_block`, the database (or,
// for a JWT of a configured issuer, its verifier). Returns nullopt only when it would have to block;
// every refusal throws its 401/403.
std::optional<core::principal> bearer_principal(services& s, const core::request& req, auth_policy policy,
                                                bool may_block) {
    const auto header = req.header("authorization");
    if (!header) throw challenge("", "this endpoint requires a bearer token in the Authorization header");
    constexpr std::string_view scheme = "bearer ";
    if (header->size() <= scheme.size() ||
        schema::case_fold(header->substr(0, scheme.size())) != scheme)
        throw challenge("invalid_request", "the Authorization header must use the Bearer scheme");
    const auto secret = header->substr(scheme.size());
    // Tokens are looked up by the SHA-256 of the presented secret, so the comparison the database does
    // is on digests; a wrong token reveals nothing about a right one.
    const auto secret_hash = core::sha256_hex(secret);
    auto token = s.tokens ? s.tokens->find(secret_hash) : std::nullopt;
    if (!token) {
        if (!may_block) return std::nullopt;
        const auto revocations = s.tokens ? s.tokens->revocations() : 0;
        if (policy == auth_policy::scim_client && !s.scim_jwt.empty() && looks_like_jwt(secret))
            token = jwt_bearer_token(s, std::string(secret));
        else
            token = s.db.find_token_by_hash(secret_hash);
        if (token && s.tokens) s.tokens->remember(secret_hash, *token, revocations);
    }
    if (!token) throw challenge("invalid_token", "the bearer token is not valid");
    if (token->expires && *token->expires <= s.clock.now())
        throw challenge("invalid_token", "the bearer token has expired");
    if (policy == auth_policy::instance_admin && token->kind != schema::token_kind::instance_admin)
        throw core::http_error(403, "forbidden", "this endpoint requires an instance administrator token");
    if (policy == auth_policy::scim_client && token->kind != schema::token_kind::scim)
        throw challenge("invalid_token", "this endpoint requires a SCIM token issued for an organization");
    core::principal p;
    p.type = token->kind == schema::token_kind::scim ? core::principal::kind::scim_client
                                                     : core::principal::kind::instance_admin;
    p.id = token->id;
    p.organization_id = token->organization_id;
    p.organization_slug = token->organization_slug;
    p.display = token->name;
    p.connection_id = token->connection_id;
    p.connection_name = token->connection_name;
    return p;
}

}  // namespace

core::principal authenticate(services& s, const core::request& req, auth_policy policy) {
    if (policy == auth_policy::session) {
        if (auto p = accounts::authenticate_session(s.db, req)) return *p;
        throw core::http_error(401, "unauthorized", "sign in first: POST /api/v1/login")
            .with_header("WWW-Authenticate", "Bearer realm=\"idgate\"");
    }
    return *bearer_principal(s, req, policy, true);
}

std::optional<core::principal> authenticate_without_blocking(services& s, const core::request& req,
                                                             auth_policy policy) {
    if (policy == auth_policy::session) return std::nullopt;  // sessions live in the database only
    return bearer_principal(s, req, policy, false);
}

core::response list_organizations(services& s, const core::request&) {
    boost::json::array items;
    for (const auto& o : s.db.list_organizations()) items.push_back(organization_json(o));
    return core::response::json(200, boost::json::serialize(boost::json::object{{"organizations", items}}));
}

core::response create_organization(services& s, const core::request& req) {
    const auto body = core::parse_json_object_body(req);
    schema::organization org;
    for (const auto& [key, value] : body) {
        if (key == "slug") {
            if (!value.is_string()) throw invalid_field(key, "must be a string");
            org.slug = value.as_string();
        } else if (key == "name") {
            if (!value.is_string()) throw invalid_field(key, "must be a string");
            org.name = value.as_string();
        } else {
            throw invalid_field(key, "unknown field (accepted: slug, name)");
        }
    }
    if (!schema::is_valid_slug(org.slug))
        throw invalid_field("slug", "required; 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'");
    if (org.name.empty() || org.name.size() > 200) throw invalid_field("name", "required; 1-200 characters");

    auto created = s.db.create_organization(org, actor_of(req));
    if (created.has_error()) {
        if (created.error() == store::errc::already_exists)
            throw core::http_error(409, "conflict", "an organization with slug '" + org.slug + "' already exists");
        throw core::http_error(500, "internal_error", "could not create the organization",
                               created.error().message());
    }
    auto res = core::response::json(201, boost::json::serialize(organization_json(*created)));
    res.headers.emplace_back("Location", urls::organization(created->id));
    return res;
}

core::response get_organization(services& s, const core::request& req) {
    return core::response::json(200,
                                boost::json::serialize(organization_json(resolve_organization(s, req.param("org")))));
}

boost::json::object token_json(const schema::api_token& t) {
    boost::json::object o{{"id", t.id}, {"name", t.name}, {"created", core::format_timestamp(t.created)}};
    o["connection"] = t.connection_name.empty() ? boost::json::value(nullptr) : boost::json::value(t.connection_name);
    o["expires"] = t.expires ? boost::json::value(core::format_timestamp(*t.expires)) : boost::json::value(nullptr);
    return o;
}

core::response create_scim_token(services& s, const core::request& req) {
    const auto org = resolve_organization(s, req.param("org"));
    const auto body = core::parse_json_object_body(req);
    schema::api_token token;
    token.kind = schema::token_kind::scim;
    token.organization_id = org.id;
    for (const auto& [key, value] : body) {
        if (key == "name") {
            if (!value.is_string() || value.as_string().empty() || value.as_string().size() > 200)
                throw invalid_field(key, "must be a string of 1-200 characters");
            token.name = value.as_string();
        } else if (key == "expires_in_days") {
            if (!value.is_int64() || value.as_int64() < 1 || value.as_int64() > 3650)
                throw invalid_field(key, "must be an integer from 1 to 3650");
            token.expires = s.clock.now() + std::chrono::hours(24 * value.as_int64());
        } else if (key == "connection") {
            if (!value.is_string() || !schema::is_valid_slug(value.as_string()))
                throw invalid_field(key, "must be a connection name: 1-63 characters of a-z, 0-9 and '-'");
            token.connection_name = value.as_string();
        } else {
            throw invalid_field(key, "unknown field (accepted: name, expires_in_days, connection)");
        }
    }
    if (!token.connection_name.empty()) {
        // The IdP connection whose mapping rules and policies this token's pushes go through.
        auto connection = s.db.identities().ensure_connection(org.id, token.connection_name, actor_of(req));
        if (!connection) throw core::http_error(500, "internal_error", "could not record the connection");
        token.connection_id = connection->id;
    }
    if (token.name.empty()) throw invalid_field("name", "required (e.g. the identity provider: \"okta\")");
    // The secret is shown in this response only; the database keeps its SHA-256.
    auto issued = issue_token(s.db, schema::token_kind::scim, org.id, token.name, token.expires, actor_of(req),
                              token.connection_id);
    issued.token.connection_name = token.connection_name;
    auto json = token_json(issued.token);
    json["token"] = issued.secret;
    json["scim_base_url"] = urls::scim_endpoint(s.public_url, org.slug);
    return core::response::json(201, boost::json::serialize(json));
}

core::response list_scim_tokens(services& s, const core::request& req) {
    const auto org = resolve_organization(s, req.param("org"));
    boost::json::array items;
    for (const auto& t : s.db.list_tokens(org.id))
        if (t.kind == schema::token_kind::scim) items.push_back(token_json(t));
    return core::response::json(200, boost::json::serialize(boost::json::object{{"tokens", items}}));
}

core::response revoke_scim_token(services& s, const core::request& req) {
    const auto org = resolve_organization(s, req.param("org"));
    const std::string id{req.param("id")};
    bool mine = false;
    for (const auto& t : s.db.list_tokens(org.id)) mine = mine || t.id == id;
    if (!mine) throw core::http_error(404, "not_found", "no active token '" + id + "' in this organization");
    auto r = s.db.revoke_token(id, actor_of(req));
    if (!r) throw core::http_error(404, "not_found", "no active token '" + id + "' in this organization");
    if (s.tokens) s.tokens->forget(id);
    return core::response::no_content();
}

core::response bootstrap_user(services& s, const core::request& req) {
    const auto org = resolve_organization(s, req.param("org"));
    accounts::context c{s.db, s.clock, org, std::nullopt, {}, actor_of(req), s.mail};
    c.secrets = s.secrets;
    return accounts::bootstrap_user(c, req);
}

namespace {

boost::json::object mapping_status_json(const mapping::registry& r) {
    const auto st = r.status();
    const auto current = r.current();
    boost::json::array connections;
    for (const auto& f : current->files)
        connections.push_back(boost::json::object{
            {"organization", f.organization}, {"connection", f.connection}, {"file", f.source},
            {"rules", f.rules.rules.size()}});
    boost::json::object out{{"directory", st.directory},
                            {"generation", st.generation},
                            {"connections", connections},
                            {"reloads", st.reloads},
                            {"failed_reloads", st.failed_reloads}};
    out["loaded_at"] = st.generation ? boost::json::value(core::format_timestamp(st.loaded_at)) : boost::json::value(nullptr);
    out["last_error"] = st.last_error ? boost::json::value(*st.last_error) : boost::json::value(nullptr);
    return out;
}

}  // namespace

core::response mapping_status(services& s, const core::request&) {
    return core::response::json(200, boost::json::serialize(mapping_status_json(*s.mappings)));
}

core::response mapping_reload(services& s, const core::request&) {
    if (s.mappings->directory().empty())
        throw core::http_error(409, "no_mapping_directory", "no mapping directory is configured (mapping.directory)");
    if (const auto error = s.mappings->reload()) {
        // The previous rules stay in force; the answer says what is wrong, with file, line and column.
        core::log::error("mapping reload failed; the previous rules stay", {{"trigger", "api"}, {"error", *error}});
        throw core::http_error(422, "invalid_mapping", *error);
    }
    return core::response::json(200, boost::json::serialize(mapping_status_json(*s.mappings)));
}

core::response mapping_explain(services& s, const core::request& req) {
    const auto body = core::parse_json_object_body(req);
    const auto* organization = body.if_contains("organization");
    const auto* connection = body.if_contains("connection");
    const auto* input = body.if_contains("input");
    for (const auto& [key, value] : body)
        if (key != "organization" && key != "connection" && key != "input")
            throw invalid_field(key, "unknown field (accepted: organization, connection, input)");
    if (!organization || !organization->is_string())
        throw invalid_field("organization", "required: the organization's slug");
    if (!connection || !connection->is_string()) throw invalid_field("connection", "required: the connection's name");
    if (!input || !input->is_object())
        throw invalid_field("input", "required: a SCIM User body, SAML attributes or OIDC claims, as an object");
    const auto rules = s.mappings->current();  // the snapshot in force when the request started
    const auto* file = rules->find(organization->as_string(), connection->as_string());
    if (!file)
        throw core::http_error(404, "not_found",
                               "no mapping rules for connection '" + std::string(organization->as_string()) + "/" +
                                   std::string(connection->as_string()) + "'");
    auto out = mapping::outcome_to_json(mapping::evaluate(file->rules, mapping::identity_from_json(input->as_object())));
    out["generation"] = rules->generation;
    return core::response::json(200, boost::json::serialize(out));
}

core::response list_audit(services& s, const core::request& req) {
    const auto org = resolve_organization(s, req.param("org"));
    const auto after = core::integer_query_param(req, "after", 0, 0, INT64_MAX);
    const auto limit = core::integer_query_param(req, "limit", 100, 1, 1000);
    boost::json::array items;
    for (const auto& r : s.db.list_audit(org.id, after, limit)) items.push_back(accounts::audit_record_json(r));
    return core::response::json(200, boost::json::serialize(boost::json::object{{"records", items}}));
}

core::response list_changes(services& s, const core::request& req) {
    const auto org = resolve_organization(s, req.param("org"));
    const auto after = core::integer_query_param(req, "after", 0, 0, INT64_MAX);
    const auto limit = core::integer_query_param(req, "limit", 100, 1, 1000);
    boost::json::array items;
    std::int64_t last = after;
    for (const auto& e : s.db.list_changes(org.id, after, limit)) {
        last = e.sequence;
        items.push_back(boost::json::object{{"sequence", e.sequence},
                                            {"at", core::format_timestamp(e.at)},
                                            {"type", e.type},
                                            {"resource_type", e.resource_type},
                                            {"resource_id", e.resource_id},
                                            {"payload", boost::json::parse(e.payload_json)}});
    }
    // `next` is what the reader passes as `after` on its next poll.
    return core::response::json(200,
                                boost::json::serialize(boost::json::object{{"events", items}, {"next", last}}));
}

}  // namespace idgate::gateway::handlers
