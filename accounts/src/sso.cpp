// SPDX-License-Identifier: AGPL-3.0-or-later
#include "accounts/sso.hpp"

#include "accounts/service.hpp"
#include "common.hpp"
#include "core/crypto.hpp"
#include "core/form.hpp"
#include "store/accounts.hpp"

namespace idgate::accounts {

sso_session start_sso_session(store::store& db, const core::clock& clock, const sso_sign_in& who,
                              const core::request& req) {
    const auto settings = db.local_accounts().get_settings(who.organization_id);
    const auto ttl_hours = settings ? settings->session_ttl_hours : 12;
    sso_session out;
    out.secret = core::new_secret(session_token_prefix);
    schema::session s;
    s.organization_id = who.organization_id;
    s.user_id = who.user_id;
    s.secret_hash = core::sha256_hex(out.secret);
    s.connection_id = who.connection_id;
    s.idp_session = who.idp_session;
    s.idp_subject = who.idp_subject;
    s.idp_subject_format = who.idp_subject_format;
    s.expires = out.expires = clock.now() + std::chrono::hours(ttl_hours);
    s.client_address = req.client_address;
    s.user_agent = std::string(req.header("user-agent").value_or("")).substr(0, 300);
    if (!db.local_accounts().create_session(s)) throw std::runtime_error("could not store the session");
    db.local_accounts().record_login({who.organization_id, who.user_id, schema::case_fold(who.login), who.method, true,
                                      "", req.client_address, clock.now()});
    out.set_cookie = detail::session_cookie_header(out.secret, static_cast<std::int64_t>(ttl_hours) * 3600);
    return out;
}

void record_failed_sso_sign_in(store::store& db, const core::clock& clock, const sso_sign_in& who,
                               const std::string& reason, const core::request& req) {
    db.local_accounts().record_login({who.organization_id, who.user_id, schema::case_fold(who.login), who.method, false,
                                      reason, req.client_address, clock.now()});
}

std::optional<std::string> session_secret_of(const core::request& req) {
    const auto v = detail::cookie_value(req, session_cookie);
    if (!v || v->empty()) return std::nullopt;
    return std::string(*v);
}

std::string cleared_session_cookie() { return detail::session_cookie_header("", 0); }

bool return_url_allowed(const std::string& url, const std::vector<std::string>& allowed) {
    if (url.empty() || url.size() > 2048) return false;
    for (const char c : url)
        if (static_cast<unsigned char>(c) < 0x21 || c == '\\' || static_cast<unsigned char>(c) == 0x7f) return false;
    // A path on idgate's own origin: "/x", but never "//host" (scheme-relative) in any spelling.
    if (url.front() == '/') return url.size() == 1 || (url[1] != '/' && url[1] != '\\');
    for (const auto& prefix : allowed) {
        if (prefix.empty() || url.compare(0, prefix.size(), prefix) != 0) continue;
        // The prefix must end at a boundary: its own '/', or the URL's end or its next '/', '?' or '#'.
        if (prefix.back() == '/' || url.size() == prefix.size()) return true;
        const char next = url[prefix.size()];
        if (next == '/' || next == '?' || next == '#') return true;
    }
    return false;
}

core::response sign_in_failure_page(const std::string& reference) {
    std::string safe;  // the reference is ours (a request id), but escape it anyway: it lands in HTML
    for (const char c : reference)
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
            safe.push_back(c);
    core::response r;
    r.status = 403;
    r.content_type = "text/html; charset=utf-8";
    r.body = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed</title>"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\n"
             "<body style=\"font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem\">\n"
             "<h1>Sign-in failed</h1>\n"
             "<p>We could not sign you in. Please try again; if it keeps failing, contact your administrator and "
             "give them this reference:</p>\n"
             "<p><code id=\"reference\">" + safe + "</code></p>\n</body></html>\n";
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    return r;
}


core::response auto_post_page(const std::string& action, const std::vector<std::pair<std::string, std::string>>& fields) {
    static const std::string script = "document.forms[0].submit();";
    // CSP Level 2 hash source: 'sha256-' + standard base64 of the script's digest.
    static const std::string script_hash = core::base64_encode(core::sha256(script));
    core::response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signing in...</title></head>\n"
             "<body><form method=\"post\" action=\"" + core::markup_escape(action) + "\">\n";
    for (const auto& [name, value] : fields)
        r.body += "<input type=\"hidden\" name=\"" + core::markup_escape(name) + "\" value=\"" + core::markup_escape(value) + "\">\n";
    r.body += "<noscript><p>JavaScript is off: press Continue.</p></noscript><button type=\"submit\">Continue</button>\n"
              "</form><script>" + script + "</script></body></html>\n";
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("Content-Security-Policy", "default-src 'none'; script-src 'sha256-" + script_hash + "'");
    return r;
}

core::response redirect_to(const std::string& location) {
    core::response r;
    r.status = 303;
    r.content_type = "text/plain; charset=utf-8";
    r.headers.emplace_back("Location", location);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

}  // namespace idgate::accounts
