// SPDX-License-Identifier: AGPL-3.0-or-later
#include "gateway/config.hpp"

#include "core/crypto.hpp"
#include "core/yaml_reader.hpp"
#include "saml/response.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace idgate::gateway {
namespace {

using reader = core::yaml::reader;

// A value in a libpq keyword/value connection string: single-quoted, with \ and ' escaped.
std::string libpq_quote(const std::string& value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\\' || c == '\'') out += '\\';
        out += c;
    }
    return out + "'";
}

std::chrono::seconds seconds(const reader& r, const YAML::Node& n, const std::string& path) {
    return std::chrono::seconds(r.integer(n, path, 1, 24 * 3600));
}

scim::attribute_definition parse_attribute(const reader& r, const YAML::Node& node, const std::string& path) {
    scim::attribute_definition a;
    r.map(node, path,
          {"name", "type", "description", "multi_valued", "required", "case_exact", "mutability", "returned"},
          [&](const std::string& key, const YAML::Node& v, const std::string& p) {
              if (key == "name") {
                  a.name = r.string(v, p);
              } else if (key == "type") {
                  const auto text = r.string(v, p);
                  if (!scim::parse_attribute_type(text, a.type) || a.type == scim::attribute_type::complex)
                      r.fail(v, p, "unknown or unsupported type '" + text +
                                       "' (expected string, boolean, integer, decimal, dateTime, reference or binary)");
              } else if (key == "description") {
                  a.description = r.string(v, p);
              } else if (key == "multi_valued") {
                  a.multi_valued = r.boolean(v, p);
              } else if (key == "required") {
                  a.required = r.boolean(v, p);
              } else if (key == "case_exact") {
                  a.case_exact = r.boolean(v, p);
              } else if (key == "mutability") {
                  const auto text = r.string(v, p);
                  if (!scim::parse_mutability(text, a.mutability))
                      r.fail(v, p, "unknown mutability '" + text + "' (expected readOnly, readWrite, immutable or writeOnly)");
              } else {
                  const auto text = r.string(v, p);
                  if (!scim::parse_returned(text, a.returned))
                      r.fail(v, p, "unknown returned '" + text + "' (expected always, never, default or request)");
              }
          });
    // Attribute names follow RFC 7643 §2.1 ATTRNAME.
    const bool valid_name = !a.name.empty() && std::isalpha(static_cast<unsigned char>(a.name[0])) &&
                            a.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                                std::string::npos;
    if (!valid_name) r.fail(node, path + ".name", "required: a letter followed by letters, digits, '_' or '-'");
    return a;
}

std::vector<std::string> string_list(const reader& r, const YAML::Node& node, const std::string& path) {
    if (!node.IsSequence()) r.fail(node, path, "expected a list of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < node.size(); ++i) out.push_back(r.string(node[i], path + "[" + std::to_string(i) + "]"));
    return out;
}

// https, or http to a loopback address (a development or test provider on the same machine).
bool acceptable_provider_url(const std::string& url) {
    if (url.rfind("https://", 0) == 0) return url.size() > 8;
    for (const char* local : {"http://127.0.0.1", "http://localhost", "http://[::1]"})
        if (url.rfind(local, 0) == 0 && (url.size() == std::strlen(local) || url[std::strlen(local)] == ':' ||
                                         url[std::strlen(local)] == '/'))
            return true;
    return false;
}

std::string read_whole_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

oidc::connection_config parse_oidc_connection(const reader& r, const YAML::Node& node, const std::string& path) {
    oidc::connection_config c;
    r.map(node, path,
          {"organization", "connection", "issuer", "client_id", "client_secret", "client_auth", "private_key_file", "key_id",
           "scopes", "claims", "algorithms",
           "userinfo", "identity", "endpoints", "discovery_refresh_seconds", "jwks_refetch_seconds",
           "http_timeout_seconds"},
          [&](const std::string& key, const YAML::Node& v, const std::string& p) {
              if (key == "organization") c.organization = r.string(v, p);
              else if (key == "connection") c.name = r.string(v, p);
              else if (key == "issuer") {
                  c.issuer = r.string(v, p);
                  if (!acceptable_provider_url(c.issuer))
                      r.fail(v, p, "the issuer must be an https URL (http only for a provider on 127.0.0.1 or localhost)");
              } else if (key == "client_id") c.client_id = r.string(v, p);
              else if (key == "client_secret") c.client_secret = r.string(v, p);
              else if (key == "client_auth") {
                  const auto a = r.string(v, p);
                  if (a != "client_secret_basic" && a != "client_secret_post" && a != "private_key_jwt")
                      r.fail(v, p, "expected client_secret_basic, client_secret_post or private_key_jwt");
                  c.auth = a == "client_secret_post" ? oidc::connection_config::client_auth::post
                           : a == "private_key_jwt"  ? oidc::connection_config::client_auth::private_key_jwt
                                                     : oidc::connection_config::client_auth::basic;
              } else if (key == "private_key_file") {
                  const auto file = r.string(v, p);
                  c.private_key_pem = read_whole_file(file);
                  if (c.private_key_pem.find("PRIVATE KEY-----") == std::string::npos)
                      r.fail(v, p, "'" + file + "' is not a PEM private key");
              } else if (key == "key_id") {
                  c.key_id = r.string(v, p);
              } else if (key == "scopes") {
                  c.scopes = string_list(r, v, p);
                  if (std::find(c.scopes.begin(), c.scopes.end(), "openid") == c.scopes.end())
                      r.fail(v, p, "the scopes must include openid");
              } else if (key == "claims") {
                  c.claims = string_list(r, v, p);
              } else if (key == "algorithms") {
                  c.algorithms = string_list(r, v, p);
                  for (const auto& a : c.algorithms)
                      if (a != "RS256" && a != "RS384" && a != "RS512" && a != "PS256" && a != "PS384" && a != "PS512" &&
                          a != "ES256" && a != "ES384" && a != "ES512")
                          r.fail(v, p, "unsupported algorithm '" + a +
                                           "' (expected RS256/384/512, PS256/384/512 or ES256/384/512; never none or HMAC)");
                  if (c.algorithms.empty()) r.fail(v, p, "at least one algorithm");
              } else if (key == "userinfo") c.userinfo = r.boolean(v, p);
              else if (key == "identity") {
                  const auto id = r.string(v, p);
                  if (id != "iss_sub" && id != "tid_oid") r.fail(v, p, "expected iss_sub or tid_oid (Entra ID)");
                  c.identity = id == "tid_oid" ? oidc::connection_config::identity_key::tid_oid
                                               : oidc::connection_config::identity_key::iss_sub;
              } else if (key == "endpoints") {
                  r.map(v, p, {"authorization", "token", "jwks", "userinfo", "end_session"},
                        [&](const std::string& ek, const YAML::Node& ev, const std::string& ep) {
                            auto url = r.string(ev, ep);
                            if (!acceptable_provider_url(url)) r.fail(ev, ep, "expected an https URL");
                            if (ek == "authorization") c.authorization_endpoint = url;
                            else if (ek == "token") c.token_endpoint = url;
                            else if (ek == "jwks") c.jwks_uri = url;
                            else if (ek == "userinfo") c.userinfo_endpoint = url;
                            else c.end_session_endpoint = url;
                        });
              } else if (key == "discovery_refresh_seconds") {
                  c.discovery_refresh_seconds = static_cast<int>(r.integer(v, p, 60, 7 * 24 * 3600));
              } else if (key == "jwks_refetch_seconds") {
                  c.jwks_refetch_seconds = static_cast<int>(r.integer(v, p, 1, 24 * 3600));
              } else {
                  c.http_timeout_seconds = static_cast<int>(r.integer(v, p, 1, 120));
              }
          });
    const auto missing = [&](const char* what) { r.fail(node, path, std::string("'") + what + "' is required"); };
    if (c.organization.empty()) missing("organization");
    if (c.name.empty()) missing("connection");
    if (!schema::is_valid_slug(c.name)) r.fail(node, path + ".connection", "a connection name is 1-63 of a-z, 0-9, '-'");
    if (c.issuer.empty()) missing("issuer");
    if (c.client_id.empty()) missing("client_id");
    if (c.auth == oidc::connection_config::client_auth::private_key_jwt) {
        if (c.private_key_pem.empty()) missing("private_key_file");
    } else if (c.client_secret.empty()) {
        missing("client_secret");
    }
    return c;
}

saml::connection_config parse_saml_connection(const reader& r, const YAML::Node& node, const std::string& path) {
    saml::connection_config c;
    std::optional<saml::idp_metadata> from_file;
    YAML::Node metadata_file_node;
    r.map(node, path,
          {"organization", "connection", "metadata_file", "metadata_url", "metadata_refresh_seconds",
           "metadata_certificate_files", "idp_entity_id", "sso_url", "sso_binding", "certificate_files", "slo_url",
           "allow_idp_initiated", "allow_sha1", "groups_attributes", "name_id_format", "sp_key_file",
           "sp_certificate_file"},
          [&](const std::string& key, const YAML::Node& v, const std::string& p) {
              if (key == "organization") c.organization = r.string(v, p);
              else if (key == "connection") c.name = r.string(v, p);
              else if (key == "metadata_file") {
                  // The IdP's metadata (Okta: "Identity Provider metadata"; Entra: "Federation Metadata XML").
                  const auto file = r.string(v, p);
                  const auto xml = read_whole_file(file);
                  if (xml.empty()) r.fail(v, p, "cannot read '" + file + "'");
                  try {
                      from_file = saml::parse_idp_metadata(xml);
                      metadata_file_node = v;
                  } catch (const saml::saml_error& e) {
                      r.fail(v, p, file + ": " + e.what());
                  }
              } else if (key == "metadata_url") {
                  // Fetched when idgate starts and every metadata_refresh_seconds (Okta: "Metadata URL";
                  // Entra: "App Federation Metadata Url").
                  c.metadata_url = r.string(v, p);
                  if (!acceptable_provider_url(c.metadata_url))
                      r.fail(v, p, "the metadata URL must be https (http only for an IdP on 127.0.0.1 or localhost)");
              } else if (key == "metadata_refresh_seconds") {
                  c.metadata_refresh_seconds = static_cast<int>(r.integer(v, p, 1, 7 * 24 * 3600));
              } else if (key == "metadata_certificate_files") {
                  for (const auto& file : string_list(r, v, p)) {
                      const auto pem = read_whole_file(file);
                      if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos || !saml::certificate_usable(pem))
                          r.fail(v, p, "'" + file + "' is not a PEM certificate");
                      c.metadata_signers_pem.push_back(pem);
                  }
              } else if (key == "sso_binding") {
                  const auto b = r.string(v, p);
                  if (b == "redirect") c.requested_sso_binding = saml::binding::redirect;
                  else if (b == "post") c.requested_sso_binding = saml::binding::post;
                  else r.fail(v, p, "expected 'redirect' or 'post'");
              } else if (key == "idp_entity_id") c.idp_entity_id = r.string(v, p);
              else if (key == "sso_url") {
                  c.sso_url = r.string(v, p);
                  if (!acceptable_provider_url(c.sso_url))
                      r.fail(v, p, "the SSO URL must be https (http only for an IdP on 127.0.0.1 or localhost)");
              } else if (key == "slo_url") {
                  c.slo_url = r.string(v, p);
                  if (!acceptable_provider_url(c.slo_url)) r.fail(v, p, "the SLO URL must be https");
              } else if (key == "certificate_files") {
                  for (const auto& file : string_list(r, v, p)) {
                      const auto pem = read_whole_file(file);
                      if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
                          r.fail(v, p, "'" + file + "' is not a PEM certificate");
                      c.certificates_pem.push_back(pem);
                  }
              } else if (key == "allow_idp_initiated") c.allow_idp_initiated = r.boolean(v, p);
              else if (key == "allow_sha1") c.allow_sha1 = r.boolean(v, p);
              else if (key == "groups_attributes") {
                  c.groups_attributes = string_list(r, v, p);
              } else if (key == "sp_key_file") {
                  const auto file = r.string(v, p);
                  c.sp_private_key_pem = read_whole_file(file);
                  if (c.sp_private_key_pem.find("PRIVATE KEY-----") == std::string::npos)
                      r.fail(v, p, "'" + file + "' is not a PEM private key");
              } else if (key == "sp_certificate_file") {
                  const auto file = r.string(v, p);
                  c.sp_certificate_pem = read_whole_file(file);
                  if (c.sp_certificate_pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
                      r.fail(v, p, "'" + file + "' is not a PEM certificate");
              } else c.name_id_format = r.string(v, p);
          });
    if (from_file && !c.metadata_url.empty())
        r.fail(node, path, "'metadata_file' and 'metadata_url' are alternatives: give one");
    if (!c.metadata_signers_pem.empty() && c.metadata_url.empty())
        r.fail(node, path, "'metadata_certificate_files' checks metadata fetched from 'metadata_url'");
    if (c.requested_sso_binding && !c.sso_url.empty()) c.sso_binding = *c.requested_sso_binding;
    if (from_file) {
        try {
            c = saml::with_metadata(c, *from_file);
        } catch (const saml::saml_error& e) {
            r.fail(metadata_file_node, path + ".metadata_file", e.what());
        }
    }
    if (c.sp_private_key_pem.empty() != c.sp_certificate_pem.empty())
        r.fail(node, path, "'sp_key_file' and 'sp_certificate_file' go together (the IdP encrypts to the certificate)");
    const auto missing = [&](const char* what) { r.fail(node, path, std::string("'") + what + "' is required"); };
    if (c.organization.empty()) missing("organization");
    if (c.name.empty() || !schema::is_valid_slug(c.name)) missing("connection");
    // From the metadata URL, these come when idgate starts.
    if (c.metadata_url.empty()) {
        if (c.idp_entity_id.empty()) missing("idp_entity_id (or metadata_file or metadata_url)");
        if (c.sso_url.empty()) missing("sso_url (or metadata_file or metadata_url)");
        if (c.certificates_pem.empty()) missing("certificate_files (or metadata_file or metadata_url)");
    }
    for (const auto& pem : c.certificates_pem)
        if (!saml::certificate_usable(pem))
            r.fail(node, path, "a signing certificate of connection '" + c.name + "' cannot be read (expected an X.509 certificate)");
    return c;
}

// idgate's public URL (server.public_url, or its older name sso.base_url): an absolute http(s) URL with a
// host and no query or fragment, since resource URLs and redirect URIs are appended to it.
std::string public_url(const reader& r, const YAML::Node& v, const std::string& p) {
    auto url = r.string(v, p);
    const auto scheme_end = url.find("://");
    const auto scheme = scheme_end == std::string::npos ? std::string() : url.substr(0, scheme_end);
    if ((scheme != "https" && scheme != "http") || url.size() == scheme_end + 3 || url[scheme_end + 3] == '/')
        r.fail(v, p, "expected idgate's public URL, e.g. https://idgate.example.com");
    if (url.find_first_of("?#") != std::string::npos)
        r.fail(v, p, "idgate's public URL cannot have a query or fragment: resource URLs are appended to it");
    while (url.back() == '/') url.pop_back();
    return url;
}

void parse_sso(const reader& r, const YAML::Node& node, const std::string& path, sso_config& s) {
    r.map(node, path,
          {"base_url", "allowed_return_urls", "default_return_url", "state_ttl_seconds", "clock_skew_seconds", "oidc",
           "saml"},
          [&](const std::string& key, const YAML::Node& v, const std::string& p) {
              if (key == "base_url") {
                  s.base_url = public_url(r, v, p);
              } else if (key == "allowed_return_urls") {
                  s.settings.allowed_return_urls = string_list(r, v, p);
                  for (const auto& u : s.settings.allowed_return_urls)
                      if (u.rfind("https://", 0) != 0 && u.rfind("http://", 0) != 0)
                          r.fail(v, p, "each allowed return URL is an absolute http(s) URL prefix");
              } else if (key == "default_return_url") {
                  s.settings.default_return_url = r.string(v, p);
              } else if (key == "state_ttl_seconds") {
                  s.settings.state_ttl_seconds = static_cast<int>(r.integer(v, p, 30, 3600));
              } else if (key == "clock_skew_seconds") {
                  s.settings.clock_skew_seconds = static_cast<int>(r.integer(v, p, 0, 600));
              } else if (key == "saml") {
                  if (!v.IsSequence()) r.fail(v, p, "expected a list of SAML connections");
                  for (std::size_t i = 0; i < v.size(); ++i) {
                      auto c = parse_saml_connection(r, v[i], p + "[" + std::to_string(i) + "]");
                      for (const auto& other : s.saml)
                          if (other.name == c.name)
                              r.fail(v[i], p + "[" + std::to_string(i) + "]", "connection '" + c.name + "' is already defined");
                      s.saml.push_back(std::move(c));
                  }
              } else {
                  if (!v.IsSequence()) r.fail(v, p, "expected a list of OpenID Connect connections");
                  for (std::size_t i = 0; i < v.size(); ++i) {
                      auto c = parse_oidc_connection(r, v[i], p + "[" + std::to_string(i) + "]");
                      // Connection names are in the URLs (/sso/oidc/{name}/...): unique on the instance.
                      for (const auto& other : s.oidc)
                          if (other.name == c.name)
                              r.fail(v[i], p + "[" + std::to_string(i) + "]",
                                     "connection '" + c.name + "' is already defined");
                      s.oidc.push_back(std::move(c));
                  }
              }
          });
}

void parse_server(const reader& r, const YAML::Node& node, const std::string& path, server_config& s) {
    r.map(node, path,
          {"address", "port", "public_url", "io_threads", "blocking_threads", "blocking_min_threads",
           "blocking_idle_seconds", "blocking_queue_limit", "max_connections", "limits", "timeouts", "tls",
           "token_cache_seconds"},
          [&](const std::string& key, const YAML::Node& v, const std::string& p) {
              if (key == "address") s.address = r.string(v, p);
              else if (key == "port") s.port = static_cast<std::uint16_t>(r.integer(v, p, 0, 65535));
              else if (key == "public_url") s.public_url = public_url(r, v, p);
              else if (key == "io_threads") s.io_threads = static_cast<int>(r.integer(v, p, 1, 256));
              else if (key == "blocking_threads") s.blocking_threads = static_cast<int>(r.integer(v, p, 1, 1024));
              else if (key == "blocking_min_threads")
                  s.blocking_min_threads = static_cast<int>(r.integer(v, p, 1, 1024));
              else if (key == "blocking_idle_seconds")
                  s.blocking_idle_timeout = std::chrono::seconds(r.integer(v, p, 1, 86'400));
              else if (key == "blocking_queue_limit")
                  s.blocking_queue_limit = static_cast<int>(r.integer(v, p, 1, 1'000'000));
              else if (key == "token_cache_seconds")
                  s.token_cache = std::chrono::seconds(r.integer(v, p, 0, 300));
              else if (key == "max_connections") s.max_connections = static_cast<int>(r.integer(v, p, 1, 1'000'000));
              else if (key == "limits")
                  r.map(v, p, {"header_bytes", "body_bytes", "json_max_depth"},
                        [&](const std::string& k, const YAML::Node& lv, const std::string& lp) {
                            if (k == "header_bytes")
                                s.header_limit_bytes = static_cast<std::size_t>(r.integer(lv, lp, 1024, 1 << 20));
                            else if (k == "body_bytes")
                                s.body_limit_bytes = static_cast<std::size_t>(r.integer(lv, lp, 1024, 1LL << 30));
                            else
                                s.json_max_depth = static_cast<std::size_t>(r.integer(lv, lp, 2, 1000));
                        });
              else if (key == "timeouts")
                  r.map(v, p,
                        {"header_seconds", "idle_seconds", "body_seconds", "write_seconds", "shutdown_grace_seconds"},
                        [&](const std::string& k, const YAML::Node& tv, const std::string& tp) {
                            if (k == "header_seconds") s.header_timeout = seconds(r, tv, tp);
                            else if (k == "idle_seconds") s.idle_timeout = seconds(r, tv, tp);
                            else if (k == "body_seconds") s.body_timeout = seconds(r, tv, tp);
                            else if (k == "write_seconds") s.write_timeout = seconds(r, tv, tp);
                            else s.shutdown_grace = seconds(r, tv, tp);
                        });
              else
                  r.map(v, p, {"certificate_file", "private_key_file"},
                        [&](const std::string& k, const YAML::Node& tv, const std::string& tp) {
                            (k == "certificate_file" ? s.tls.certificate_file : s.tls.private_key_file) =
                                r.string(tv, tp);
                        });
          });
    if (!s.tls.certificate_file.empty() != !s.tls.private_key_file.empty())
        r.fail(node["tls"], path + ".tls", "certificate_file and private_key_file must be given together");
    if (node["blocking_min_threads"] && s.blocking_min_threads > s.blocking_threads)
        r.fail(node["blocking_min_threads"], path + ".blocking_min_threads",
               "at most blocking_threads (" + std::to_string(s.blocking_threads) + ")");
    // Left at its default, the minimum follows a smaller maximum.
    s.blocking_min_threads = std::min(s.blocking_min_threads, s.blocking_threads);
}

void parse_storage(const reader& r, const YAML::Node& node, const std::string& path, storage_config& s) {
    bool postgres_given = false;
    r.map(node, path,
          {"type", "sqlite", "postgres", "acquire_timeout_ms", "idle_connection_seconds", "min_open_connections",
           "change_retention_hours"},
          [&](const std::string& key, const YAML::Node& v, const std::string& p) {
              if (key == "type") {
                  const auto t = r.string(v, p);
                  if (t == "sqlite") s.type = storage_config::backend::sqlite;
                  else if (t == "postgres") s.type = storage_config::backend::postgres;
                  else r.fail(v, p, "unknown storage type '" + t + "' (expected sqlite or postgres)");
              } else if (key == "sqlite") {
                  r.map(v, p, {"path", "busy_timeout_ms", "pool_size"},
                        [&](const std::string& k, const YAML::Node& sv, const std::string& sp) {
                            if (k == "path") s.sqlite.path = r.string(sv, sp);
                            else if (k == "busy_timeout_ms")
                                s.sqlite.busy_timeout_ms = static_cast<int>(r.integer(sv, sp, 0, 600'000));
                            else s.sqlite.pool_size = static_cast<int>(r.integer(sv, sp, 1, 64));
                        });
              } else if (key == "postgres") {
                  postgres_given = true;
                  // Either a libpq connection string, or its usual fields (composed into one here).
                  std::string fields;
                  r.map(v, p, {"connection", "pool_size", "write_transactions", "pipelined_read_connections", "host",
                               "port", "dbname", "user", "password", "sslmode"},
                        [&](const std::string& k, const YAML::Node& pv, const std::string& pp) {
                            if (k == "connection") s.postgres.connection = r.string(pv, pp);
                            else if (k == "pool_size") s.postgres.pool_size = static_cast<int>(r.integer(pv, pp, 1, 512));
                            else if (k == "write_transactions")
                                s.postgres.write_transactions = static_cast<int>(r.integer(pv, pp, 1, 512));
                            else if (k == "pipelined_read_connections")
                                s.postgres.pipelined_read_connections = static_cast<int>(r.integer(pv, pp, 0, 64));
                            else if (k == "port") fields += " port=" + std::to_string(r.integer(pv, pp, 1, 65535));
                            else fields += " " + k + "=" + libpq_quote(r.string(pv, pp));
                        });
                  if (!fields.empty()) {
                      if (!s.postgres.connection.empty())
                          r.fail(v, p, "give either 'connection' or the fields (host, port, dbname, user, password, "
                                       "sslmode), not both");
                      s.postgres.connection = fields.substr(1);
                  }
              } else if (key == "idle_connection_seconds") {
                  s.pool.idle_seconds = static_cast<int>(r.integer(v, p, 1, 86'400));
              } else if (key == "min_open_connections") {
                  s.pool.keep_open = static_cast<int>(r.integer(v, p, 1, 512));
              } else if (key == "acquire_timeout_ms") {
                  s.pool.acquire_timeout_ms = static_cast<int>(r.integer(v, p, 1, 600'000));
              } else {
                  s.change_retention_hours = static_cast<int>(r.integer(v, p, 1, 24 * 3650));
              }
          });
    if (s.type == storage_config::backend::postgres && s.postgres.connection.empty())
        r.fail(postgres_given ? node["postgres"] : node, path + ".postgres.connection",
               "storage type is postgres but no connection string is given");
    if (s.type == storage_config::backend::sqlite && s.sqlite.path.empty())
        r.fail(node, path + ".sqlite.path", "storage type is sqlite but the path is empty");
}

// scim:
//   extensions:
//     - urn: urn:example:params:scim:schemas:extension:acme:2.0:User
//       name: AcmeUser
//       description: ...
//       attributes:
//         - {name: badgeNumber, type: string, required: false, case_exact: false,
//            multi_valued: false, mutability: readWrite, returned: default, description: ...}
// scim:
//   jwt_bearer:
//     - organization: acme
//       connection: entra
//       issuer: https://sts.windows.net/<tenant id>/
//       audience: 8adf8e6e-67b2-4cf2-a259-e3dc5476c621
//       jwks_uri: https://login.microsoftonline.com/<tenant id>/discovery/keys
//       tenant_id: <tenant id>
scim_jwt_config parse_scim_jwt(const reader& r, const YAML::Node& node, const std::string& path) {
    scim_jwt_config c;
    c.verifier.verify_only = true;
    r.map(node, path, {"organization", "connection", "issuer", "audience", "jwks_uri", "tenant_id", "algorithms"},
          [&](const std::string& key, const YAML::Node& v, const std::string& p) {
              if (key == "organization") c.organization = r.string(v, p);
              else if (key == "connection") c.connection = r.string(v, p);
              else if (key == "issuer") c.verifier.issuer = r.string(v, p);
              else if (key == "audience") c.verifier.client_id = r.string(v, p);
              else if (key == "tenant_id") c.tenant_id = r.string(v, p);
              else if (key == "jwks_uri") {
                  c.verifier.jwks_uri = r.string(v, p);
                  if (!acceptable_provider_url(c.verifier.jwks_uri))
                      r.fail(v, p, "must be an https URL (http only for a provider on 127.0.0.1 or localhost)");
              } else {
                  c.verifier.algorithms = string_list(r, v, p);
                  for (const auto& a : c.verifier.algorithms)
                      if (a != "RS256" && a != "RS384" && a != "RS512" && a != "PS256" && a != "PS384" && a != "PS512" &&
                          a != "ES256" && a != "ES384" && a != "ES512")
                          r.fail(v, p, "unsupported algorithm '" + a + "' (never none or HMAC)");
                  if (c.verifier.algorithms.empty()) r.fail(v, p, "at least one algorithm");
              }
          });
    for (const char* required : {"organization", "issuer", "audience"})
        if (!node[required]) r.fail(node, path, std::string("'") + required + "' is required");
    // Without jwks_uri the keys come from the issuer's discovery document, which must be reachable.
    if (c.verifier.jwks_uri.empty() && !acceptable_provider_url(c.verifier.issuer))
        r.fail(node, path, "the issuer must be an https URL (http only on 127.0.0.1 or localhost), or give jwks_uri");
    c.verifier.organization = c.organization;
    c.verifier.name = c.connection.empty() ? "scim-jwt" : c.connection;
    return c;
}

void parse_scim(const reader& r, const YAML::Node& node, const std::string& path, scim_config& sc) {
    r.map(node, path, {"extensions", "jwt_bearer"}, [&](const std::string& section, const YAML::Node& list, const std::string& lp) {
        if (section == "jwt_bearer") {
            if (!list.IsSequence()) r.fail(list, lp, "expected a list of token issuers");
            for (std::size_t i = 0; i < list.size(); ++i)
                sc.jwt_bearer.push_back(parse_scim_jwt(r, list[i], lp + "[" + std::to_string(i) + "]"));
            return;
        }
        if (!list.IsSequence()) r.fail(list, lp, "expected a list of extension schemas");
        for (std::size_t i = 0; i < list.size(); ++i) {
            const auto item = list[i];
            const std::string ip = lp + "[" + std::to_string(i) + "]";
            scim::schema_definition def;
            bool has_attributes = false;
            r.map(item, ip, {"urn", "name", "description", "attributes"},
                  [&](const std::string& key, const YAML::Node& v, const std::string& p) {
                      if (key == "urn") {
                          def.id = r.string(v, p);
                          // RFC 7643 §3.3: extensions are identified by a schema URI; idgate requires a URN,
                          // and the core and enterprise ones are built in.
                          if (def.id.rfind("urn:", 0) != 0 || def.id.find(' ') != std::string::npos)
                              r.fail(v, p, "must be a URN such as urn:example:params:scim:schemas:extension:acme:2.0:User");
                          if (def.id == "urn:ietf:params:scim:schemas:core:2.0:User" ||
                              def.id == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
                              r.fail(v, p, "is built in and cannot be redefined");
                      } else if (key == "name") {
                          def.name = r.string(v, p);
                      } else if (key == "description") {
                          def.description = r.string(v, p);
                      } else {
                          has_attributes = true;
                          if (!v.IsSequence() || v.size() == 0) r.fail(v, p, "expected a non-empty list of attributes");
                          for (std::size_t j = 0; j < v.size(); ++j)
                              def.attributes.push_back(parse_attribute(r, v[j], p + "[" + std::to_string(j) + "]"));
                      }
                  });
            if (def.id.empty()) r.fail(item, ip, "'urn' is required");
            if (!has_attributes) r.fail(item, ip, "'attributes' is required");
            if (def.name.empty()) def.name = def.id.substr(def.id.rfind(':') + 1);
            for (const auto& other : sc.extensions.user_extensions)
                if (other.id == def.id) r.fail(item, ip, "extension '" + def.id + "' is declared twice");
            sc.extensions.user_extensions.push_back(std::move(def));
        }
    });
}

// mail:
//   smtp_url: smtp://mail.example.com:587
//   from: no-reply@example.com
//   invitation_url: https://app.example.com/accept-invitation?token={token}
void parse_mail(const reader& r, const YAML::Node& node, const std::string& path, accounts::mail_settings& m) {
    r.map(node, path,
          {"smtp_url", "from", "from_name", "username", "password", "require_tls", "timeout_seconds", "invitation_url",
           "password_reset_url", "email_change_url"},
          [&](const std::string& key, const YAML::Node& v, const std::string& p) {
              if (key == "smtp_url") {
                  m.smtp_url = r.string(v, p);
                  if (m.smtp_url.rfind("smtp://", 0) != 0 && m.smtp_url.rfind("smtps://", 0) != 0)
                      r.fail(v, p, "must start with smtp:// or smtps://");
              } else if (key == "from") {
                  m.from = r.string(v, p);
                  if (m.from.find('@') == std::string::npos) r.fail(v, p, "must be an email address");
              } else if (key == "from_name") m.from_name = r.string(v, p);
              else if (key == "username") m.username = r.string(v, p);
              else if (key == "password") m.password = r.string(v, p);
              else if (key == "require_tls") m.require_tls = r.boolean(v, p);
              else if (key == "timeout_seconds") m.timeout = std::chrono::seconds(r.integer(v, p, 1, 300));
              else {
                  auto& target = key == "invitation_url"       ? m.invitation_url
                                 : key == "password_reset_url" ? m.password_reset_url
                                                               : m.email_change_url;
                  target = r.string(v, p);
                  if (target.find("{token}") == std::string::npos)
                      r.fail(v, p, "must contain {token}, where the link's secret goes");
              }
          });
    if (!m.smtp_url.empty() && m.from.empty()) r.fail(node, path, "'from' is required with 'smtp_url'");
}

void parse_log(const reader& r, const YAML::Node& node, const std::string& path, log_config& l) {
    r.map(node, path, {"level", "access_log"}, [&](const std::string& key, const YAML::Node& v, const std::string& p) {
        if (key == "level") {
            if (!core::log::parse_level(r.string(v, p), l.level))
                r.fail(v, p, "unknown level (expected debug, info, warn or error)");
        } else {
            l.access_log = r.boolean(v, p);
        }
    });
}

// Keys are checked here, so a bad one is reported with its line and column; the key file is read at start.
void parse_encryption(const reader& r, const YAML::Node& node, const std::string& path, encryption_config& e) {
    r.map(node, path, {"keys", "key_file"}, [&](const std::string& key, const YAML::Node& v, const std::string& p) {
        if (key == "key_file") {
            e.key_file = r.string(v, p);
            return;
        }
        const auto texts = string_list(r, v, p);
        for (std::size_t i = 0; i < texts.size(); ++i) {
            auto raw = core::secret_box::parse_key(texts[i]);
            if (!raw)
                r.fail(v[i], p + "[" + std::to_string(i) + "]",
                       "expected 32 random bytes in base64 (openssl rand -base64 32)");
            e.keys.push_back(std::move(*raw));
        }
    });
}

}  // namespace

config parse_config(const std::string& yaml_text, const std::string& source) try {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::ParserException& e) {
        throw config_error(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                           ": not valid YAML: " + e.msg);
    }
    config c;
    c.source = source;
    reader r(source);
    if (!root.IsMap() && !root.IsNull()) r.fail(root, "", "the configuration must be a mapping");
    r.map(root, "", {"server", "storage", "scim", "mail", "mapping", "sso", "encryption", "log"},
          [&](const std::string& key, const YAML::Node& v, const std::string& p) {
              if (key == "server") parse_server(r, v, p, c.server);
              else if (key == "storage") parse_storage(r, v, p, c.storage);
              else if (key == "scim") parse_scim(r, v, p, c.scim);
              else if (key == "mail") parse_mail(r, v, p, c.mail);
              else if (key == "sso") parse_sso(r, v, p, c.sso);
              else if (key == "encryption") parse_encryption(r, v, p, c.encryption);
              else if (key == "mapping")
                  r.map(v, p, {"directory", "reconcile"},
                        [&](const std::string& mk, const YAML::Node& mv, const std::string& mp) {
                            if (mk == "directory") {
                                c.mapping.directory = r.string(mv, mp);
                                return;
                            }
                            const auto when = r.string(mv, mp);
                            if (when != "on_reload" && when != "manual")
                                r.fail(mv, mp, "expected on_reload (re-evaluate users when the rules change) or "
                                               "manual (only `idgate mapping apply`)");
                            c.mapping.reconcile_on_reload = when == "on_reload";
                        });
              else parse_log(r, v, p, c.log);
          });
    if (!c.sso.base_url.empty()) {
        if (!c.server.public_url.empty() && c.server.public_url != c.sso.base_url)
            r.fail(root["sso"]["base_url"], "sso.base_url",
                   "differs from server.public_url; give idgate's public URL once, as server.public_url");
        c.server.public_url = c.sso.base_url;
    }
    if ((!c.sso.oidc.empty() || !c.sso.saml.empty()) && c.server.public_url.empty())
        r.fail(root["sso"], "sso",
               "server.public_url is required with single sign-on connections: the redirect URIs registered at "
               "the providers are built from it");
    if (c.encryption.keys.empty() && c.encryption.key_file.empty() &&
        c.storage.type == storage_config::backend::postgres)
        r.fail(root, "encryption",
               "required with PostgreSQL: `keys` or `key_file`, the same on every node (TOTP keys are stored "
               "encrypted with them; make one with: openssl rand -base64 32)");
    if (!c.encryption.keys.empty() && !c.encryption.key_file.empty())
        r.fail(root, "encryption", "give `keys` or `key_file`, not both");
    return c;
} catch (const core::yaml::error& e) {
    throw config_error(e.what());
}

config load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(path + ": cannot read the configuration file");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), path);
}

}  // namespace idgate::gateway
