// SPDX-License-Identifier: AGPL-3.0-or-later
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <cstdlib>
#include <filesystem>

#include "gateway/config.hpp"

using namespace idgate::gateway;

namespace {
std::string error_of(const std::string& yaml) {
    try {
        parse_config(yaml, "idgate.yaml");
    } catch (const config_error& e) {
        return e.what();
    }
    return "(no error)";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(config_parsing)

BOOST_AUTO_TEST_CASE(empty_file_gives_defaults) {
    const auto c = parse_config("", "idgate.yaml");
    BOOST_TEST(c.server.address == "127.0.0.1");
    BOOST_TEST(c.server.port == 8080);
    BOOST_TEST((c.storage.type == storage_config::backend::sqlite));
}

BOOST_AUTO_TEST_CASE(reads_every_section) {
    const auto c = parse_config(R"(
server:
  address: 0.0.0.0
  port: 9443
  io_threads: 3
  blocking_threads: 4
  max_connections: 10
  limits: {header_bytes: 4096, body_bytes: 2048, json_max_depth: 8}
  timeouts: {header_seconds: 2, idle_seconds: 5, shutdown_grace_seconds: 7}
  tls: {certificate_file: /etc/idgate/cert.pem, private_key_file: /etc/idgate/key.pem}
storage:
  type: postgres
  postgres: {connection: "host=127.0.0.1 dbname=idgate", pool_size: 12}
  change_retention_hours: 48
encryption: {key_file: /etc/idgate/encryption.keys}
log: {level: debug, access_log: false}
)",
                                "idgate.yaml");
    BOOST_TEST(c.server.address == "0.0.0.0");
    BOOST_TEST(c.server.port == 9443);
    BOOST_TEST(c.server.io_threads == 3);
    BOOST_TEST(c.server.header_limit_bytes == 4096u);
    BOOST_TEST(c.server.body_limit_bytes == 2048u);
    BOOST_TEST(c.server.json_max_depth == 8u);
    BOOST_TEST(c.server.header_timeout.count() == 2);
    BOOST_TEST(c.server.shutdown_grace.count() == 7);
    BOOST_TEST(c.server.tls.enabled());
    BOOST_TEST((c.storage.type == storage_config::backend::postgres));
    BOOST_TEST(c.storage.postgres.pool_size == 12);
    BOOST_TEST(c.storage.change_retention_hours == 48);
    BOOST_TEST(!c.log.access_log);
}

BOOST_AUTO_TEST_CASE(mail_settings_are_read_and_checked) {
    const auto c = parse_config(R"(
mail:
  smtp_url: smtps://mail.example.com:465
  from: no-reply@example.com
  from_name: Example
  username: relay
  password: secret
  timeout_seconds: 5
  invitation_url: https://app.example.com/accept?token={token}
)", "idgate.yaml");
    BOOST_TEST(c.mail.enabled());
    BOOST_TEST(c.mail.require_tls);  // the default: never send links in clear text
    BOOST_TEST(c.mail.timeout.count() == 5);
    BOOST_TEST(c.mail.invitation_url == "https://app.example.com/accept?token={token}");
    BOOST_TEST(!parse_config("", "idgate.yaml").mail.enabled());
    BOOST_TEST(error_of("mail:\n  smtp_url: http://mail.example.com\n  from: a@b.c\n").find(
                   "idgate.yaml:2:13: 'mail.smtp_url': must start with smtp:// or smtps://") == 0u);
    BOOST_TEST(error_of("mail:\n  smtp_url: smtp://mail.example.com\n").find("'from' is required") != std::string::npos);
    BOOST_TEST(error_of("mail:\n  invitation_url: https://app.example.com/accept\n").find("must contain {token}") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(scim_jwt_bearer_issuers_are_read_and_checked) {
    const auto c = parse_config(R"(
scim:
  jwt_bearer:
    - organization: acme
      connection: entra
      issuer: https://sts.windows.net/t-1/
      audience: 8adf8e6e-67b2-4cf2-a259-e3dc5476c621
      jwks_uri: https://login.microsoftonline.com/t-1/discovery/keys
      tenant_id: t-1
)",
                                "idgate.yaml");
    BOOST_REQUIRE(c.scim.jwt_bearer.size() == 1u);
    const auto& j = c.scim.jwt_bearer[0];
    BOOST_TEST(j.organization == "acme");
    BOOST_TEST(j.connection == "entra");
    BOOST_TEST(j.verifier.issuer == "https://sts.windows.net/t-1/");
    BOOST_TEST(j.verifier.client_id == "8adf8e6e-67b2-4cf2-a259-e3dc5476c621");
    BOOST_TEST(j.verifier.jwks_uri == "https://login.microsoftonline.com/t-1/discovery/keys");
    BOOST_TEST(j.verifier.verify_only);
    BOOST_TEST(j.tenant_id == "t-1");
    BOOST_TEST((j.verifier.algorithms == std::vector<std::string>{"RS256"}));
    const std::string base = "scim:\n  jwt_bearer:\n    - organization: acme\n      issuer: https://idp.example.com\n";
    BOOST_TEST(error_of(base).find("'audience' is required") != std::string::npos, error_of(base));
    BOOST_TEST(error_of(base + "      audience: x\n      algorithms: [HS256]\n").find("never none or HMAC") !=
               std::string::npos);
    BOOST_TEST(error_of(base + "      audience: x\n      jwks_uri: http://keys.example.com/jwks\n").find("https") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_key_names_file_line_column_and_alternatives) {
    const auto e = error_of("server:\n  port: 8080\n  listen_port: 9\n");
    BOOST_TEST(e.find("idgate.yaml:3:3:") == 0u, e);
    BOOST_TEST(e.find("'server.listen_port'") != std::string::npos, e);
    BOOST_TEST(e.find("expected one of: address, port") != std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(wrong_types_are_errors_with_position) {
    BOOST_TEST(error_of("server:\n  port: eighty\n").find("idgate.yaml:2:9: 'server.port': expected an integer") == 0u);
    BOOST_TEST(error_of("server:\n  port: 70000\n").find("must be between 0 and 65535") != std::string::npos);
    BOOST_TEST(error_of("log:\n  access_log: yes please\n").find("expected true or false") != std::string::npos);
    BOOST_TEST(error_of("server: [1, 2]\n").find("expected a mapping") != std::string::npos);
    BOOST_TEST(error_of("storage:\n  type: mysql\n").find("unknown storage type 'mysql'") != std::string::npos);
    BOOST_TEST(error_of("server: {port: [}\n").find("not valid YAML") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(blocking_pool_bounds_are_read_and_checked) {
    const auto c = parse_config("server:\n  blocking_threads: 32\n  blocking_min_threads: 4\n  blocking_idle_seconds: 30\n",
                                "idgate.yaml");
    BOOST_TEST(c.server.blocking_threads == 32);
    BOOST_TEST(c.server.blocking_min_threads == 4);
    BOOST_TEST(c.server.blocking_idle_timeout.count() == 30);
    // The default minimum (2) follows a smaller maximum; a minimum given above the maximum is an error.
    BOOST_TEST(parse_config("server:\n  blocking_threads: 1\n", "idgate.yaml").server.blocking_min_threads == 1);
    const auto e = error_of("server:\n  blocking_threads: 4\n  blocking_min_threads: 5\n");
    BOOST_TEST(e.find("idgate.yaml:3:25: 'server.blocking_min_threads': at most blocking_threads (4)") == 0u, e);
    BOOST_TEST(error_of("server:\n  blocking_idle_seconds: 0\n").find("must be between 1 and 86400") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(database_pool_idle_settings_are_read_and_checked) {
    const auto defaults = parse_config("", "idgate.yaml").storage.pool;
    BOOST_TEST(defaults.idle_seconds == 60);
    BOOST_TEST(defaults.keep_open == 2);
    const auto c = parse_config(
        "storage:\n  acquire_timeout_ms: 250\n  idle_connection_seconds: 300\n  min_open_connections: 4\n", "idgate.yaml");
    BOOST_TEST(c.storage.pool.acquire_timeout_ms == 250);
    BOOST_TEST(c.storage.pool.idle_seconds == 300);
    BOOST_TEST(c.storage.pool.keep_open == 4);
    const auto e = error_of("storage:\n  min_open_connections: 0\n");
    BOOST_TEST(e.find("'storage.min_open_connections': must be between 1 and 512") != std::string::npos, e);
    BOOST_TEST(error_of("storage:\n  idle_connection_seconds: -5\n").find("must be between 1 and 86400") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(mapping_reconciliation_is_on_reload_unless_manual) {
    BOOST_TEST(parse_config("", "idgate.yaml").mapping.reconcile_on_reload);
    const auto manual = parse_config("mapping:\n  directory: /etc/m\n  reconcile: manual\n", "idgate.yaml");
    BOOST_TEST(!manual.mapping.reconcile_on_reload);
    BOOST_TEST(error_of("mapping:\n  reconcile: sometimes\n").find("idgate.yaml:2:14: 'mapping.reconcile': expected on_reload") ==
               0u);
}

BOOST_AUTO_TEST_CASE(sso_oidc_connections_are_read_and_checked) {
    const auto c = parse_config(R"(sso:
  base_url: https://idgate.example.com
  allowed_return_urls: [https://app.example.com/]
  oidc:
    - organization: acme
      connection: okta-oidc
      issuer: https://acme.okta.com
      client_id: abc
      client_secret: shh
      scopes: [openid, email, groups]
      algorithms: [RS256, ES256]
      userinfo: true
    - organization: acme
      connection: entra-oidc
      issuer: https://login.microsoftonline.com/tenant/v2.0
      client_id: def
      client_secret: shh
      client_auth: client_secret_post
      identity: tid_oid
)",
                                "idgate.yaml");
    BOOST_TEST_REQUIRE(c.sso.oidc.size() == 2u);
    BOOST_TEST(c.server.public_url == "https://idgate.example.com");  // sso.base_url is its older name
    BOOST_TEST(c.sso.oidc[0].userinfo);
    BOOST_TEST(c.sso.oidc[0].algorithms.size() == 2u);
    BOOST_TEST((c.sso.oidc[1].identity == idgate::oidc::connection_config::identity_key::tid_oid));
    BOOST_TEST((c.sso.oidc[1].auth == idgate::oidc::connection_config::client_auth::post));

    const std::string connection = "    - {organization: acme, connection: x, client_id: a, client_secret: b, issuer: ";
    BOOST_TEST(error_of("sso:\n  base_url: https://i\n  oidc:\n" + connection + "http://idp.example.com}\n")
                   .find("must be an https URL") != std::string::npos);
    BOOST_TEST(error_of("sso:\n  base_url: https://i\n  oidc:\n" + connection + "https://idp, algorithms: [HS256]}\n")
                   .find("unsupported algorithm 'HS256'") != std::string::npos);
    BOOST_TEST(error_of("sso:\n  oidc:\n" + connection + "https://idp}\n")
                   .find("idgate.yaml:2:3: 'sso': server.public_url is required") == 0u);
    BOOST_TEST(parse_config("server:\n  public_url: https://i\nsso:\n  oidc:\n" + connection + "https://idp}\n",
                            "idgate.yaml")
                   .sso.oidc.size() == 1u);
    BOOST_TEST(error_of("sso:\n  base_url: https://i\n  oidc:\n" + connection + "https://idp}\n" + connection +
                        "https://idp2}\n")
                   .find("connection 'x' is already defined") != std::string::npos);
    BOOST_TEST(error_of("sso:\n  base_url: https://i\n  oidc:\n    - {organization: acme, connection: x, issuer: "
                        "https://idp}\n")
                   .find("'client_id' is required") != std::string::npos);
    // A provider on loopback may use http (development and tests).
    BOOST_TEST(parse_config("sso:\n  base_url: http://127.0.0.1:8080\n  oidc:\n" + connection +
                                "http://127.0.0.1:9000}\n",
                            "idgate.yaml")
                   .sso.oidc.size() == 1u);
}

BOOST_AUTO_TEST_CASE(public_url_is_an_absolute_http_url_given_once) {
    BOOST_TEST(parse_config("", "idgate.yaml").server.public_url.empty());
    // A trailing slash is dropped: paths are appended to it. A path prefix (behind a proxy) is kept.
    BOOST_TEST(parse_config("server:\n  public_url: https://idgate.example.com/\n", "idgate.yaml").server.public_url ==
               "https://idgate.example.com");
    BOOST_TEST(parse_config("server:\n  public_url: https://example.com/idgate\n", "idgate.yaml").server.public_url ==
               "https://example.com/idgate");
    BOOST_TEST(parse_config("server:\n  public_url: https://i\nsso:\n  base_url: https://i/\n", "idgate.yaml")
                   .server.public_url == "https://i");
    for (const std::string bad : {"idgate.example.com", "ftp://idgate.example.com", "https://", "https:///x"})
        BOOST_TEST(error_of("server:\n  public_url: " + bad + "\n")
                       .find("'server.public_url': expected idgate's public URL") != std::string::npos, bad);
    BOOST_TEST(error_of("server:\n  public_url: https://i/?x=1\n").find("cannot have a query or fragment") !=
               std::string::npos);
    BOOST_TEST(error_of("server:\n  public_url: https://a\nsso:\n  base_url: https://b\n")
                   .find("idgate.yaml:4:13: 'sso.base_url': differs from server.public_url") == 0u);
}

BOOST_AUTO_TEST_CASE(sso_saml_connections_read_the_idp_metadata) {
    const auto dir = std::filesystem::temp_directory_path() / ("idgate-saml-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    BOOST_TEST_REQUIRE(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + (dir / "k.pem").string() +
                                    " -out " + (dir / "c.pem").string() + " -days 1 -subj /CN=t > /dev/null 2>&1")
                                       .c_str()) == 0);
    std::ifstream pem_file(dir / "c.pem");
    std::string pem((std::istreambuf_iterator<char>(pem_file)), {}), der_b64;
    for (std::size_t at = 0; at < pem.size();) {
        const auto end = pem.find('\n', at);
        const auto line = pem.substr(at, end - at);
        if (line.find("-----") == std::string::npos) der_b64 += line;
        at = end == std::string::npos ? pem.size() : end + 1;
    }
    std::ofstream(dir / "bad.xml")
        << "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"><md:IDPSSODescriptor>"
           "<md:KeyDescriptor><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data><ds:X509Certificate>"
           "MIIBAAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService "
           "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"https://i/sso\"/>"
           "</md:IDPSSODescriptor></md:EntityDescriptor>";
    BOOST_TEST(error_of("sso:\n  base_url: https://i\n  saml:\n    - {organization: acme, connection: x, metadata_file: " +
                        (dir / "bad.xml").string() + "}\n")
                   .find("cannot be read (expected an X.509 certificate)") != std::string::npos);
    std::ofstream(dir / "idp.xml")
        << "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"http://www.okta.com/exk1\">"
           "<md:IDPSSODescriptor><md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"
           "<ds:X509Data><ds:X509Certificate>" + der_b64 + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
           "<md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" "
           "Location=\"https://acme.okta.com/sso\"/></md:IDPSSODescriptor></md:EntityDescriptor>";
    const auto c = parse_config("sso:\n  base_url: https://idgate.example.com\n  saml:\n    - organization: acme\n"
                                "      connection: okta-main\n      metadata_file: " + (dir / "idp.xml").string() +
                                    "\n      allow_idp_initiated: true\n",
                                "idgate.yaml");
    BOOST_TEST_REQUIRE(c.sso.saml.size() == 1u);
    BOOST_TEST(c.sso.saml[0].idp_entity_id == "http://www.okta.com/exk1");
    BOOST_TEST(c.sso.saml[0].sso_url == "https://acme.okta.com/sso");
    BOOST_TEST(c.sso.saml[0].certificates_pem.size() == 1u);
    BOOST_TEST(c.sso.saml[0].allow_idp_initiated);
    BOOST_TEST(error_of("sso:\n  base_url: https://i\n  saml:\n    - {organization: acme, connection: x, metadata_file: "
                        "/nonexistent.xml}\n")
                   .find("cannot read '/nonexistent.xml'") != std::string::npos);
    BOOST_TEST(error_of("sso:\n  base_url: https://i\n  saml:\n    - {organization: acme, connection: x, sso_url: "
                        "https://idp/sso}\n")
                   .find("'idp_entity_id (or metadata_file or metadata_url)' is required") != std::string::npos);
    // The HTTP-POST binding for AuthnRequests only where the IdP's metadata offers it.
    const auto file_connection = "sso:\n  base_url: https://i\n  saml:\n    - {organization: acme, connection: x, metadata_file: " +
                                 (dir / "idp.xml").string();
    BOOST_TEST(error_of(file_connection + ", sso_binding: post}\n").find("no HTTP-POST SingleSignOnService") !=
               std::string::npos);
    BOOST_TEST(error_of(file_connection + ", sso_binding: soap}\n").find("expected 'redirect' or 'post'") !=
               std::string::npos);
    BOOST_TEST((parse_config(file_connection + ", sso_binding: redirect}\n", "idgate.yaml").sso.saml[0].sso_binding ==
               idgate::saml::binding::redirect));
    // The metadata by URL: https (http on loopback only), alone, fetched when idgate starts.
    BOOST_TEST(error_of(file_connection + ", metadata_url: \"https://idp/md\"}\n").find("are alternatives") !=
               std::string::npos);
    BOOST_TEST(error_of("sso:\n  base_url: https://i\n  saml:\n    - {organization: acme, connection: x, metadata_url: "
                        "\"http://idp.example.com/md\"}\n")
                   .find("the metadata URL must be https") != std::string::npos);
    BOOST_TEST(error_of(file_connection + ", metadata_certificate_files: [" + (dir / "c.pem").string() + "]}\n")
                   .find("checks metadata fetched from 'metadata_url'") != std::string::npos);
    const auto by_url = parse_config("sso:\n  base_url: https://i\n  saml:\n    - {organization: acme, connection: x, "
                                     "metadata_url: \"https://login.microsoftonline.com/t/federationmetadata.xml\", "
                                     "metadata_refresh_seconds: 600, metadata_certificate_files: [" +
                                         (dir / "c.pem").string() + "]}\n",
                                     "idgate.yaml");
    BOOST_TEST(by_url.sso.saml[0].metadata_refresh_seconds == 600);
    BOOST_TEST(by_url.sso.saml[0].metadata_signers_pem.size() == 1u);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(postgres_fields_compose_a_quoted_connection_string) {
    ::setenv("IDGATE_TEST_PG_PASSWORD", "it's a \\secret", 1);
    const auto c = parse_config(
        "storage:\n  type: postgres\n  postgres: {host: db.internal, port: 5433, dbname: idgate, user: idgate, "
        "password: \"${IDGATE_TEST_PG_PASSWORD}\", sslmode: verify-full}\nencryption: {key_file: /k}\n",
        "idgate.yaml");
    BOOST_TEST(c.storage.postgres.connection ==
               "host='db.internal' port=5433 dbname='idgate' user='idgate' password='it\\'s a \\\\secret' "
               "sslmode='verify-full'");
    BOOST_TEST(error_of("storage:\n  type: postgres\n  postgres: {connection: \"host=x\", host: y}\n").find("not both") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(pipelined_read_connections_default_to_one_and_are_bounded) {
    const auto defaults = parse_config(
        "storage:\n  type: postgres\n  postgres: {connection: \"host=x\"}\nencryption: {key_file: /k}\n", "idgate.yaml");
    BOOST_TEST(defaults.storage.postgres.pipelined_read_connections == 1);
    const auto off = parse_config(
        "storage:\n  type: postgres\n  postgres: {connection: \"host=x\", pipelined_read_connections: 0}\n"
        "encryption: {key_file: /k}\n",
        "idgate.yaml");
    BOOST_TEST(off.storage.postgres.pipelined_read_connections == 0);
    BOOST_TEST(error_of("storage:\n  type: postgres\n  postgres: {connection: \"host=x\", pipelined_read_connections: 65}\n")
                   .find("pipelined_read_connections") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(encryption_keys_are_read_and_checked) {
    // `openssl rand -base64 32` output, and the same bytes in base64url without padding.
    const auto c = parse_config("encryption:\n  keys: [\"q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\", "
                                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8]\n",
                                "idgate.yaml");
    BOOST_TEST_REQUIRE(c.encryption.keys.size() == 2u);
    BOOST_TEST(c.encryption.keys[0].size() == 32u);
    BOOST_TEST(c.encryption.keys[1][31] == '\x1f');
    BOOST_TEST(parse_config("encryption: {key_file: /etc/idgate/keys}\n", "idgate.yaml").encryption.key_file ==
               "/etc/idgate/keys");
    // A key that is not 32 bytes is named with its position.
    const auto short_key = error_of("encryption:\n  keys: [c2hvcnQ=]\n");
    BOOST_TEST(short_key.find("idgate.yaml:2:10: 'encryption.keys[0]'") != std::string::npos, short_key);
    BOOST_TEST(short_key.find("openssl rand -base64 32") != std::string::npos);
    BOOST_TEST(error_of("encryption: {keys: [AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8], key_file: /k}\n")
                   .find("not both") != std::string::npos);
    BOOST_TEST(error_of("encryption: {key: x}\n").find("unknown key") != std::string::npos);
    // PostgreSQL serves several nodes from one database: each must hold the same keys, so there is no
    // default to fall back on.
    const auto pg = error_of("storage: {type: postgres, postgres: {connection: \"host=x\"}}\n");
    BOOST_TEST(pg.find("'encryption': required with PostgreSQL") != std::string::npos, pg);
    BOOST_TEST(parse_config("", "idgate.yaml").encryption.key_file.empty());  // SQLite: idgate.key beside the database
}

BOOST_AUTO_TEST_CASE(postgres_requires_a_connection_and_tls_requires_both_files) {
    BOOST_TEST(error_of("storage: {type: postgres}\n").find("no connection string") != std::string::npos);
    BOOST_TEST(error_of("server:\n  tls: {certificate_file: a.pem}\n").find("must be given together") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(environment_variables_expand_in_strings) {
    ::setenv("IDGATE_TEST_DB_PASSWORD", "s3cret", 1);
    ::unsetenv("IDGATE_TEST_UNSET");
    const auto c = parse_config(
        "storage:\n  type: postgres\n  postgres: {connection: \"password=${IDGATE_TEST_DB_PASSWORD} "
        "host=${IDGATE_TEST_UNSET:-localhost}\"}\nencryption: {key_file: /k}\n",
        "idgate.yaml");
    BOOST_TEST(c.storage.postgres.connection == "password=s3cret host=localhost");
    const auto e = error_of("storage:\n  sqlite: {path: \"${IDGATE_TEST_UNSET}/db\"}\n");
    BOOST_TEST(e.find("environment variable IDGATE_TEST_UNSET is not set") != std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(scim_extension_schemas_are_typed_and_checked) {
    const auto c = parse_config(R"(
scim:
  extensions:
    - urn: urn:example:params:scim:schemas:extension:acme:2.0:User
      attributes:
        - {name: badgeNumber, type: string, required: true, mutability: immutable}
        - {name: level, type: integer, returned: always}
)",
                                "idgate.yaml");
    BOOST_REQUIRE(c.scim.extensions.user_extensions.size() == 1u);
    const auto& e = c.scim.extensions.user_extensions[0];
    BOOST_TEST(e.name == "User");
    BOOST_TEST(e.attributes.size() == 2u);
    BOOST_TEST(e.attributes[0].required);
    BOOST_TEST((e.attributes[0].mutability == idgate::scim::mutability::immutable));
    BOOST_TEST((e.attributes[1].type == idgate::scim::attribute_type::integer));
    BOOST_TEST(error_of("scim:\n  extensions:\n    - urn: not-a-urn\n      attributes: [{name: a}]\n")
                   .find("must be a URN") != std::string::npos);
    BOOST_TEST(error_of("scim:\n  extensions:\n    - urn: urn:x:y\n      attributes: [{name: a, type: complex}]\n")
                   .find("unsupported type 'complex'") != std::string::npos);
    BOOST_TEST(error_of("scim:\n  extensions:\n    - urn: urn:x:y\n      attributes: [{name: 1a}]\n").find("a letter") !=
               std::string::npos);
    BOOST_TEST(error_of("scim:\n  extensions:\n    - urn: urn:x:y\n      attributes: [{name: a, mutability: sometimes}]\n")
                   .find("unknown mutability") != std::string::npos);
    BOOST_TEST(error_of("scim:\n  extensions:\n    - urn: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\n"
                        "      attributes: [{name: a}]\n")
                   .find("built in") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_file_is_a_clear_error) {
    try {
        load_config("/nonexistent/idgate.yaml");
        BOOST_FAIL("expected an error");
    } catch (const config_error& e) {
        BOOST_TEST(std::string(e.what()) == "/nonexistent/idgate.yaml: cannot read the configuration file");
    }
}

BOOST_AUTO_TEST_CASE(every_example_config_is_valid) {
    // Examples that rot are worse than none: each one under examples/config must load.
    int seen = 0;
    for (const auto& entry : std::filesystem::directory_iterator(IDGATE_SOURCE_DIR "/examples/config")) {
        if (entry.path().extension() != ".yaml") continue;
        ::setenv("IDGATE_DATA_DIR", "/tmp", 0);
        ::setenv("IDGATE_PG_CONNECTION", "host=127.0.0.1", 0);
        BOOST_CHECK_NO_THROW(load_config(entry.path().string()));
        ++seen;
    }
    BOOST_TEST(seen >= 2);
}

BOOST_AUTO_TEST_SUITE_END()
