// SPDX-License-Identifier: AGPL-3.0-or-later
// Sessions (login with password and TOTP, logout), the signed-in user's own account (/me, password,
// MFA enrolment), and the public ends of one-time links (accepting an invitation, completing a reset).
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "accounts/mfa_keys.hpp"
#include "accounts/password.hpp"
#include "accounts/qr.hpp"
#include "accounts/totp.hpp"
#include "common.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"

namespace idgate::accounts {
namespace {

using namespace detail;

constexpr std::chrono::minutes mfa_challenge_ttl{5};
constexpr std::string_view totp_issuer = "idgate";

schema::organization_settings settings_of(const context& c, std::string_view organization_id) {
    auto s = c.db.local_accounts().get_settings(organization_id);
    if (!s) throw core::http_error(404, "not_found", "no such organization");
    return *s;
}

void record(const context& c, const std::string& org, const std::string& user_id, const std::string& login,
            bool success, std::string reason, const core::request& req) {
    c.db.local_accounts().record_login(
        {org, user_id, login, "password", success, std::move(reason), req.client_address, c.clock.now()});
}

// 429 when this login name or this client address failed too often recently (a locked-out account is
// told when it can retry).
void check_throttle(const context& c, const std::string& org, const std::string& login, const core::request& req) {
    const auto now = c.clock.now();
    const auto since = now - failure_window;
    auto& accounts = c.db.local_accounts();
    if (accounts.count_failed_logins_from(req.client_address, since) >= address_failure_limit) {
        throw core::http_error(429, "too_many_attempts",
                               "too many failed sign-in attempts from this address; try again in " +
                                   std::to_string(failure_window.count()) + " minutes")
            .with_header("Retry-After", std::to_string(std::chrono::seconds(failure_window).count()));
    }
    const auto failures = accounts.failed_logins(org, login, since, account_failure_limit);
    if (failures.size() >= static_cast<std::size_t>(account_failure_limit)) {
        const auto unlock = failures.back() + failure_window;
        const auto wait = std::chrono::duration_cast<std::chrono::seconds>(unlock - now).count() + 1;
        throw core::http_error(429, "account_locked",
                               "too many failed sign-in attempts for this account; try again after " +
                                   core::format_timestamp(unlock) + " (in " + std::to_string(wait) + " seconds)")
            .with_header("Retry-After", std::to_string(wait));
    }
}

core::response start_session(const context& c, const schema::account& a, const core::request& req) {
    const auto settings = settings_of(c, a.profile.organization_id);
    const std::string secret = core::new_secret(session_token_prefix);
    schema::session s;
    s.organization_id = a.profile.organization_id;
    s.user_id = a.profile.id;
    s.secret_hash = core::sha256_hex(secret);
    s.expires = c.clock.now() + std::chrono::hours(settings.session_ttl_hours);
    s.client_address = req.client_address;
    s.user_agent = std::string(req.header("user-agent").value_or("")).substr(0, 300);
    auto created = c.db.local_accounts().create_session(s);
    if (!created) throw_store_error(created.error(), "session");
    record(c, a.profile.organization_id, a.profile.id, schema::case_fold(a.profile.user_name), true, "", req);
    auto account = c.db.local_accounts().get_account(a.profile.organization_id, a.profile.id).value();
    auto res = core::response::json(
        200, boost::json::serialize(boost::json::object{
                 {"mfa_required", false},
                 {"session", boost::json::object{{"token", secret}, {"expires", core::format_timestamp(s.expires)}}},
                 {"user", account_json(account)}}));
    res.headers.emplace_back("Set-Cookie", session_cookie_header(secret, settings.session_ttl_hours * 3600));
    res.headers.emplace_back("Cache-Control", "no-store");
    return res;
}

// The account a one-time link belongs to, or 410 when it cannot be used any more (404 when unknown).
schema::one_time_link usable_link(const context& c, std::string_view secret, schema::link_purpose purpose,
                                  std::string_view what) {
    auto link = c.db.local_accounts().find_link(core::sha256_hex(secret));
    if (!link || link->purpose != purpose)
        throw core::http_error(404, "not_found", "this " + std::string(what) + " link is not valid");
    if (link->used)
        throw core::http_error(410, "link_used", "this " + std::string(what) + " link was already used or replaced");
    if (link->expires <= c.clock.now())
        throw core::http_error(410, "link_expired",
                               "this " + std::string(what) + " link expired at " + core::format_timestamp(link->expires) +
                                   "; ask an admin for a new one");
    return *link;
}

constexpr int recovery_code_count = 10;

// Ten codes of 10 base32 characters (50 bits each), shown as xxxxx-xxxxx; only their digests are stored.
std::vector<std::string> new_recovery_codes() {
    std::vector<std::string> codes;
    for (int i = 0; i < recovery_code_count; ++i) {
        std::string code = totp::base32(core::random_bytes(7)).substr(0, 10);
        for (auto& ch : code) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        codes.push_back(code.substr(0, 5) + "-" + code.substr(5));
    }
    return codes;
}

// What a user types, in the form the digest was taken of: lower-case, without separators.
std::string normalise_recovery_code(std::string_view typed) {
    std::string out;
    for (char ch : typed)
        if (ch != '-' && ch != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

core::response issue_recovery_codes(const context& c) {
    const auto codes = new_recovery_codes();
    std::vector<std::string> digests;
    for (const auto& code : codes) digests.push_back(core::sha256_hex(normalise_recovery_code(code)));
    auto r = c.db.local_accounts().set_recovery_codes(c.organization.id, c.caller->profile.id, digests, c.actor);
    if (!r) throw_store_error(r.error(), "user");
    boost::json::array shown;
    for (const auto& code : codes) shown.emplace_back(code);
    auto res = core::response::json(200, boost::json::serialize(boost::json::object{
                                             {"recovery_codes", shown},
                                             {"note", "each code signs in once in place of an authenticator code; "
                                                      "store them safely, they are not shown again"}}));
    res.headers.emplace_back("Cache-Control", "no-store");
    return res;
}

void check_password_policy(const schema::organization_settings& settings, const std::string& password,
                           std::string_view field) {
    const auto problems = password_problems(settings.passwords, password);
    if (problems.empty()) return;
    std::string message = "the password does not meet the policy; it needs ";
    for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
    throw invalid_field(field, message);
}

core::response redeem(const context& c, const core::request& req, schema::link_purpose purpose, std::string_view what) {
    const body_reader body(req, {"token", "password"});
    const auto token = body.required_string("token", 200);
    const auto password = body.required_string("password", 1024);
    const auto link = usable_link(c, token, purpose, what);
    check_password_policy(settings_of(c, link.organization_id), password, "password");
    const schema::actor actor{"user", link.user_id, "", req.client_address, req.request_id};
    auto redeemed =
        c.db.local_accounts().redeem_link(core::sha256_hex(token), purpose, hash_password(password), actor);
    if (!redeemed) {
        if (redeemed.error() == store::errc::already_used)
            throw core::http_error(410, "link_used", "this " + std::string(what) + " link was already used");
        if (redeemed.error() == store::errc::expired)
            throw core::http_error(410, "link_expired", "this " + std::string(what) + " link expired");
        throw_store_error(redeemed.error(), what);
    }
    auto account = c.db.local_accounts().get_account(link.organization_id, link.user_id).value();
    return core::response::json(200, boost::json::serialize(boost::json::object{{"user", account_json(account)}}));
}

// TOTP keys are stored sealed (mfa_keys.hpp); a server without a key ring has no MFA.
const core::secret_box& box_of(const context& c) {
    if (!c.secrets)
        throw core::http_error(503, "mfa_unavailable", "MFA is not available: the server has no encryption key");
    return *c.secrets;
}

// The user's TOTP key, read back. One this server cannot read is its configuration's fault, not the
// user's: it is not reported as a wrong code.
std::string totp_key(const context& c, std::string_view user_id, const schema::mfa_state& mfa) {
    auto key = open_totp_key(box_of(c), user_id, mfa.secret);
    if (!key) {
        core::log::error("a TOTP key cannot be decrypted: the key it was sealed with is not in the key ring "
                         "(encryption.key_file or encryption.keys), or the stored value is damaged",
                         {{"user", std::string(user_id)}});
        throw core::http_error(500, "mfa_key_unreadable",
                               "this account's authenticator key cannot be read by this server; an administrator "
                               "must restore the encryption key it was stored with, or reset the account's MFA");
    }
    return std::move(*key);
}

}  // namespace

std::optional<core::principal> authenticate_session(store::store& db, const core::request& req) {
    std::optional<std::string_view> secret;
    bool from_cookie = false;
    if (const auto auth = req.header("authorization")) {
        constexpr std::string_view scheme = "Bearer ";
        if (auth->size() > scheme.size() && schema::case_fold(auth->substr(0, 7)) == "bearer ")
            secret = auth->substr(scheme.size());
    }
    if (!secret) {
        secret = cookie_value(req, session_cookie);
        from_cookie = secret.has_value();
    }
    if (!secret || secret->rfind(session_token_prefix, 0) != 0) return std::nullopt;
    if (from_cookie && req.verb != core::method::get && req.verb != core::method::head) {
        // Defence in depth beside SameSite: a cookie-authenticated change must come from our own origin.
        if (const auto origin = req.header("origin"); origin && !origin->empty()) {
            const auto host = req.header("host").value_or("");
            const auto scheme_end = origin->find("://");
            const auto origin_host = scheme_end == std::string_view::npos ? *origin : origin->substr(scheme_end + 3);
            if (origin_host != host) return std::nullopt;
        }
    }
    const auto session = db.local_accounts().find_session(core::sha256_hex(*secret));
    if (!session) return std::nullopt;
    core::principal p;
    p.type = core::principal::kind::user;
    p.id = session->user_id;
    p.organization_id = session->organization_id;
    p.session_id = session->id;
    return p;
}

idp_policy policy_of(const idp_policy_lookup* lookup, const schema::organization& org) {
    if (!lookup || !*lookup || org.sso != schema::sso_mode::enforced) return {};
    auto p = (*lookup)(org.slug);
    p.enforced = true;
    return p;
}

core::response with_session(store::store& db, const core::clock& clock, const mailer* mail,
                            const core::secret_box* secrets, const idp_policy_lookup* idp, const core::request& req,
                            handler fn, mfa_gate gate) {
    auto view = db.local_accounts().load_session_view(req.caller.organization_id, req.caller.id);
    if (!view) throw core::http_error(401, "unauthorized", "the session is no longer valid; sign in again");
    context c{db,
              clock,
              view->organization,
              view->account,
              req.caller.session_id,
              {"user", view->account.profile.id, view->account.profile.user_name, req.client_address, req.request_id},
              mail,
              view->settings,
              view->mfa_required,
              idp,
              policy_of(idp, view->organization),
              secrets};
    if (gate == mfa_gate::enforce && !view->account.mfa_enrolled && view->mfa_required)
        throw core::http_error(403, "mfa_enrollment_required",
                               "multi-factor authentication is required for this account: enrol at "
                               "POST /api/v1/me/mfa first");
    return fn(c, req);
}

core::response without_session(store::store& db, const core::clock& clock, const mailer* mail,
                               const core::secret_box* secrets, const idp_policy_lookup* idp,
                               const core::request& req, handler fn) {
    context c{db, clock, {}, std::nullopt, {}, {"anonymous", "", "", req.client_address, req.request_id}, mail};
    c.idp_lookup = idp;
    c.secrets = secrets;
    return fn(c, req);
}

core::response login(const context& c, const core::request& req) {
    const body_reader body(req, {"organization", "login", "password"});
    const auto slug = body.required_string("organization", 63);
    const auto login = schema::case_fold(body.required_string("login", 254));
    const auto password = body.required_string("password", 1024);
    const auto invalid = [] {
        // One message for every credential failure: which part was wrong is not the caller's business.
        return core::http_error(401, "invalid_credentials", "the organization, login or password is not correct");
    };
    auto org = c.db.find_organization_by_slug(slug);
    if (!org) {
        (void)verify_password(decoy_password_hash(), password);
        throw invalid();
    }
    check_throttle(c, org->id, login, req);
    auto found = c.db.local_accounts().find_login(org->id, login);
    if (!found) {
        (void)verify_password(decoy_password_hash(), password);
        record(c, org->id, "", login, false, "unknown_login", req);
        throw invalid();
    }
    const auto& account = found->account;
    if (found->password_hash.empty() || !verify_password(found->password_hash, password)) {
        if (found->password_hash.empty()) (void)verify_password(decoy_password_hash(), password);
        record(c, org->id, account.profile.id, login, false, "bad_password", req);
        throw invalid();
    }
    // The password was right: now the account's state may be told.
    if (account.profile.status == schema::user_status::disabled) {
        record(c, org->id, account.profile.id, login, false, "disabled", req);
        throw core::http_error(403, "account_disabled", "this account is disabled; contact an administrator");
    }
    if (account.profile.status == schema::user_status::pending) {
        record(c, org->id, account.profile.id, login, false, "pending", req);
        throw core::http_error(403, "account_pending", "this account has not been activated; accept the invitation");
    }
    if (org->sso == schema::sso_mode::enforced && !account.break_glass) {
        // The read-only mirror: people sign in through the identity provider; only designated break-glass
        // accounts keep a local password (and every use of one is in the login history).
        record(c, org->id, account.profile.id, login, false, "sso_enforced", req);
        throw core::http_error(403, "sso_required",
                               "this organization signs in through its identity provider; local passwords are off");
    }
    if (account.mfa_enrolled) {
        context in_org{c.db, c.clock, *org, account, {}, c.actor, c.mail};
        auto challenge = new_link(in_org, schema::link_purpose::mfa_challenge, account.profile.id, mfa_challenge_ttl);
        auto issued = c.db.local_accounts().issue_link(challenge.link, c.actor);
        if (!issued) throw_store_error(issued.error(), "user");
        return core::response::json(200, boost::json::serialize(boost::json::object{
                                             {"mfa_required", true},
                                             {"mfa_token", challenge.secret},
                                             {"expires", core::format_timestamp(challenge.link.expires)}}));
    }
    context signed_in{c.db, c.clock, *org, account, {}, c.actor, c.mail};
    signed_in.secrets = c.secrets;
    return start_session(signed_in, account, req);
}

core::response login_mfa(const context& c, const core::request& req) {
    const body_reader body(req, {"mfa_token", "code", "recovery_code"});
    const auto token = body.required_string("mfa_token", 200);
    const auto code = body.string("code", 16);
    const auto recovery = body.string("recovery_code", 32);
    if (code.has_value() == recovery.has_value())
        throw invalid_field("code", "give either 'code' (from the authenticator) or 'recovery_code'");
    const auto link = usable_link(c, token, schema::link_purpose::mfa_challenge, "sign-in");
    auto account = c.db.local_accounts().get_account(link.organization_id, link.user_id);
    if (!account) throw core::http_error(401, "invalid_credentials", "the sign-in attempt is no longer valid");
    const auto login = schema::case_fold(account->profile.user_name);
    check_throttle(c, link.organization_id, login, req);
    const schema::actor actor{"user", account->profile.id, account->profile.user_name, req.client_address,
                              req.request_id};
    if (recovery) {
        const auto used = c.db.local_accounts().use_recovery_code(
            link.organization_id, link.user_id, core::sha256_hex(normalise_recovery_code(*recovery)), actor);
        if (!used) {
            record(c, link.organization_id, link.user_id, login, false, "mfa_failed", req);
            if (used.error() == store::errc::already_used)
                throw core::http_error(401, "recovery_code_used", "this recovery code was already used");
            throw core::http_error(401, "invalid_mfa_code", "the recovery code is not correct");
        }
    } else {
        const auto mfa = c.db.local_accounts().get_mfa(link.organization_id, link.user_id).value();
        const auto step = mfa.confirmed ? totp::match(totp_key(c, link.user_id, mfa), *code, c.clock.now())
                                        : std::nullopt;
        if (!step) {
            record(c, link.organization_id, link.user_id, login, false, "mfa_failed", req);
            throw core::http_error(401, "invalid_mfa_code", "the authentication code is not correct");
        }
        // Each code works once (RFC 6238 §5.2): the step is recorded with a compare-and-set.
        if (!c.db.local_accounts().use_mfa_step(link.organization_id, link.user_id, *step)) {
            record(c, link.organization_id, link.user_id, login, false, "mfa_replayed", req);
            throw core::http_error(401, "mfa_code_used",
                                   "this authentication code was already used; wait for the next one");
        }
    }
    auto redeemed = c.db.local_accounts().redeem_link(core::sha256_hex(token), schema::link_purpose::mfa_challenge,
                                                      std::nullopt, c.actor);
    if (!redeemed) throw core::http_error(410, "link_used", "this sign-in attempt was already completed");
    auto org = c.db.get_organization(link.organization_id).value();
    context signed_in{c.db, c.clock, org, *account, {}, c.actor, c.mail};
    signed_in.secrets = c.secrets;
    return start_session(signed_in, *account, req);
}

core::response logout(const context& c, const core::request&) {
    (void)c.db.local_accounts().end_session(c.session_id);
    auto res = core::response::no_content();
    res.headers.emplace_back("Set-Cookie", session_cookie_header("", 0));
    return res;
}

core::response me(const context& c, const core::request&) {
    const auto& a = *c.caller;
    auto user = account_json(a);
    user["organization"] = boost::json::object{{"id", c.organization.id},
                                               {"slug", c.organization.slug},
                                               {"name", c.organization.name},
                                               {"sso", schema::to_string(c.organization.sso)}};
    user["mfa"] = boost::json::object{
        {"enrolled", a.mfa_enrolled},
        {"required", c.mfa_required},
        {"recovery_codes_remaining", c.db.local_accounts().count_recovery_codes(c.organization.id, a.profile.id)}};
    add_identity_provider_fields(c, a, user);
    return core::response::json(200, boost::json::serialize(user));
}

core::response change_password(const context& c, const core::request& req) {
    require_local(c, c.idp.password_by, "passwords", c.caller->break_glass);
    const body_reader body(req, {"current_password", "new_password"});
    const auto current = body.required_string("current_password", 1024);
    const auto next = body.required_string("new_password", 1024);
    auto found = c.db.local_accounts().find_login(c.organization.id, c.caller->profile.user_name);
    if (!found || found->password_hash.empty() || !verify_password(found->password_hash, current))
        throw invalid_field("current_password", "is not correct");
    check_password_policy(c.settings, next, "new_password");
    if (next == current) throw invalid_field("new_password", "must differ from the current password");
    // Other sessions end: whoever else knew the old password is signed out; this one stays.
    auto r = c.db.local_accounts().set_password(c.organization.id, c.caller->profile.id, hash_password(next), true,
                                                c.session_id, c.actor);
    if (!r) throw_store_error(r.error(), "user");
    return core::response::no_content();
}

core::response start_mfa(const context& c, const core::request&) {
    require_local(c, c.idp.mfa_by, "MFA settings", c.caller->break_glass);
    if (c.caller->mfa_enrolled)
        throw core::http_error(409, "mfa_already_enrolled",
                               "MFA is already enrolled; an admin can reset it to enrol a new authenticator");
    const std::string key = totp::new_key();
    auto r = c.db.local_accounts().set_mfa(c.organization.id, c.caller->profile.id,
                                           {seal_totp_key(box_of(c), c.caller->profile.id, key), false, 0},
                                           "user.mfa_enrol_start", c.actor);
    if (!r) throw_store_error(r.error(), "user");
    const std::string account = c.organization.slug + ":" + c.caller->profile.user_name;
    const std::string uri = totp::provisioning_uri(totp_issuer, account, key);
    auto res = core::response::json(
        200, boost::json::serialize(boost::json::object{{"secret", totp::base32(key)},
                                                        {"otpauth_uri", uri},
                                                        {"qr_svg", qr::svg(uri)},
                                                        {"digits", totp::digits},
                                                        {"period", totp::step_seconds}}));
    res.headers.emplace_back("Cache-Control", "no-store");
    return res;
}

core::response confirm_mfa(const context& c, const core::request& req) {
    const body_reader body(req, {"code"});
    const auto code = body.required_string("code", 16);
    auto mfa = c.db.local_accounts().get_mfa(c.organization.id, c.caller->profile.id).value();
    if (mfa.secret.empty())
        throw core::http_error(409, "mfa_not_started", "start enrolment first: POST /api/v1/me/mfa");
    if (mfa.confirmed) throw core::http_error(409, "mfa_already_enrolled", "MFA is already enrolled");
    const auto step = totp::match(totp_key(c, c.caller->profile.id, mfa), code, c.clock.now());
    if (!step) throw invalid_field("code", "is not the current code of the authenticator");
    mfa.confirmed = true;
    mfa.last_step = *step;  // the code that confirmed enrolment cannot sign in as well
    auto r = c.db.local_accounts().set_mfa(c.organization.id, c.caller->profile.id, mfa, "user.mfa_enrol", c.actor);
    if (!r) throw_store_error(r.error(), "user");
    return issue_recovery_codes(c);
}

core::response regenerate_recovery_codes(const context& c, const core::request& req) {
    const body_reader body(req, {"code"});
    const auto code = body.required_string("code", 16);
    const auto mfa = c.db.local_accounts().get_mfa(c.organization.id, c.caller->profile.id).value();
    if (!mfa.confirmed) throw core::http_error(409, "mfa_not_enrolled", "enrol in MFA first: POST /api/v1/me/mfa");
    const auto step = totp::match(totp_key(c, c.caller->profile.id, mfa), code, c.clock.now());
    // A current authenticator code proves the device is at hand; it is then spent like a sign-in code.
    if (!step || !c.db.local_accounts().use_mfa_step(c.organization.id, c.caller->profile.id, *step))
        throw invalid_field("code", "is not a current, unused code of the authenticator");
    return issue_recovery_codes(c);
}

core::response accept_invitation(const context& c, const core::request& req) {
    return redeem(c, req, schema::link_purpose::invitation, "invitation");
}

core::response complete_password_reset(const context& c, const core::request& req) {
    return redeem(c, req, schema::link_purpose::password_reset, "password reset");
}

}  // namespace idgate::accounts
