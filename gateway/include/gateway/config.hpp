// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The gateway's configuration: one YAML file, parsed into these structs in one place. Unknown keys and
// wrong types are errors naming file, line, column and key, so a typo fails at start-up, never silently.
// String values may use ${VAR} or ${VAR:-default} to take secrets from the environment.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "accounts/mail.hpp"
#include "oidc/config.hpp"
#include "saml/service_provider.hpp"
#include "core/log.hpp"
#include "scim/schema_definitions.hpp"
#include "store/store.hpp"

namespace idgate::gateway {

struct tls_config {
    std::string certificate_file;  // PEM chain
    std::string private_key_file;  // PEM key
    bool enabled() const { return !certificate_file.empty(); }
};

struct server_config {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8080;
    // How clients reach idgate, e.g. https://idgate.example.com (no trailing slash): SSO redirect URIs and
    // SCIM resource URLs are absolute under it. Empty: SCIM URLs are paths, and SSO cannot be configured.
    std::string public_url;
    int io_threads = 2;
    int blocking_threads = 8;           // database, XML signatures, outbound HTTP: the most at once
    int blocking_min_threads = 2;       // kept when idle; the others leave after blocking_idle_timeout
    std::chrono::seconds blocking_idle_timeout{60};
    int blocking_queue_limit = 1024;    // queued blocking jobs beyond this get 503
    int max_connections = 1024;
    std::size_t header_limit_bytes = 16 * 1024;
    std::size_t body_limit_bytes = 1024 * 1024;  // default; routes may set their own
    std::size_t json_max_depth = 32;
    std::chrono::seconds header_timeout{10};  // whole request head, so a slow-header client is cut off
    std::chrono::seconds idle_timeout{60};    // keep-alive connection with no request
    std::chrono::seconds body_timeout{30};
    std::chrono::seconds write_timeout{30};
    std::chrono::seconds shutdown_grace{20};  // in-flight requests get this long after SIGTERM
    // Valid bearer tokens are remembered this long (0: never), so a SCIM burst does not look each
    // one up; a token revoked on another node or from the command line stops working within it.
    std::chrono::seconds token_cache{5};
    tls_config tls;
};

struct storage_config {
    enum class backend { sqlite, postgres };
    backend type = backend::sqlite;
    store::sqlite_options sqlite{"idgate.db", 5000, 4};
    store::postgres_options postgres;
    store::pool_options pool;
    int change_retention_hours = 24 * 7;  // change-feed events older than this are pruned
};

// Bearer JWTs an identity provider issues itself to call the SCIM API (INTEROP E12: Entra ID's own
// token instead of a shared secret), accepted for one organisation: signed by a key of the provider's
// JWKS, for `audience`, from `issuer` (and Entra's tenant).
struct scim_jwt_config {
    std::string organization;  // slug
    std::string connection;    // the IdP connection pushes go through (mapping rules); empty: none
    oidc::connection_config verifier;  // issuer, client_id = the audience, jwks_uri, algorithms
    std::string tenant_id;             // Entra ID: the token's `tid` must be this; empty: not checked
};

struct scim_config {
    scim::extension_registry extensions;  // User extension schemas, beyond the enterprise extension
    std::vector<scim_jwt_config> jwt_bearer;
};

struct mapping_config {
    std::string directory;  // the mapping files (one per IdP connection); empty: none
    // Rules are desired state: after a reload that changes them, re-evaluate every bound user at once
    // (true), or only when an operator runs `idgate mapping apply` after `idgate mapping plan` (false).
    bool reconcile_on_reload = true;
};

// The keys that seal secrets idgate must read back (TOTP keys; accounts/mfa_keys.hpp). Each: 32 random
// bytes, base64 (`openssl rand -base64 32`). The first seals; the others still open (rotation).
struct encryption_config {
    std::vector<std::string> keys;  // raw 32-byte keys from `keys`, checked at load
    // One key per line ('#' comments). Default on SQLite: idgate.key beside the database, created on
    // first start. PostgreSQL has no default: every node must hold the same keys.
    std::string key_file;
};

struct log_config {
    core::log::level level = core::log::level::info;
    bool access_log = true;
};

// Single sign-on: shared settings and the OpenID Connect connections (SAML ones will join them).
struct sso_config {
    std::string base_url;  // the older name of server.public_url; merged into it
    oidc::sso_settings settings;
    std::vector<oidc::connection_config> oidc;
    std::vector<saml::connection_config> saml;
};

struct config {
    std::string source;  // the file it came from, for messages
    server_config server;
    storage_config storage;
    scim_config scim;
    accounts::mail_settings mail;  // disabled unless `mail.smtp_url` is set
    mapping_config mapping;
    sso_config sso;
    encryption_config encryption;
    log_config log;
};

// "file:line:column: message". Line and column are 1-based.
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses YAML text; `source` names it in errors. Throws config_error.
config parse_config(const std::string& yaml_text, const std::string& source);
// Reads and parses a file. Throws config_error (also when the file cannot be read).
config load_config(const std::string& path);

}  // namespace idgate::gateway
