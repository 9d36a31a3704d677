// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The resource model shared by every module. Field names follow RFC 7643 where SCIM defines them
// (§4.1 User, §4.2 Group) so that the SCIM codec, the mapping rules and storage agree on one vocabulary.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"

namespace idgate::schema {

// Case-insensitive keys (userName, group displayName, email values) are compared through this fold.
// It folds ASCII letters only, deliberately: the same rule on every backend, so SQLite and PostgreSQL
// agree on what counts as a duplicate (PostgreSQL's lower() would also fold non-ASCII, SQLite's not).
std::string case_fold(std::string_view text);

enum class sso_mode { off, optional, enforced };
std::string_view to_string(sso_mode m);
std::optional<sso_mode> parse_sso_mode(std::string_view text);

struct organization {
    std::string id;    // UUID, immutable
    std::string slug;  // URL-safe, unique, used in URLs such as /scim/v2/{slug}/Users
    std::string name;
    sso_mode sso = sso_mode::off;
    core::time_point created{};
    core::time_point updated{};
    std::int64_t version = 1;
};

// A slug is 1-63 characters of [a-z0-9-], not starting or ending with '-' (a DNS label, so it can also
// serve as a sub-domain later).
bool is_valid_slug(std::string_view slug);

// Lifecycle of an account: invited but not yet activated, usable, or switched off by an admin or an IdP.
enum class user_status { pending, active, disabled };
std::string_view to_string(user_status s);
std::optional<user_status> parse_user_status(std::string_view text);

// One value of a multi-valued attribute such as emails or phoneNumbers (RFC 7643 §2.4).
struct multi_value {
    std::string value;
    std::string type;     // "work", "home", ...
    std::string display;
    bool primary = false;
    bool operator==(const multi_value&) const = default;
};

struct name {
    std::string formatted, family_name, given_name, middle_name, honorific_prefix, honorific_suffix;
};

// A group a user is a member of, as the User resource shows it (RFC 7643 §4.1.2 "groups", read-only).
struct group_ref {
    std::string id;
    std::string display;
};

struct user {
    std::string id;  // UUID, server-assigned and immutable
    std::string organization_id;
    std::string user_name;    // unique per organisation, case-insensitively (RFC 7643 §4.1.1)
    std::string external_id;  // the provisioning client's identifier (RFC 7643 §3.1)
    struct name name;
    std::string display_name, nick_name, profile_url, title, department, user_type;
    std::string preferred_language, locale, timezone;
    bool active = true;
    user_status status = user_status::active;
    std::vector<multi_value> emails;
    std::vector<multi_value> phone_numbers;
    std::vector<group_ref> groups;  // read-only: memberships change on the Group
    // Attributes of extension schemas, as one JSON object text keyed by schema URN (RFC 7643 §3.3).
    std::string extensions_json = "{}";
    core::time_point created{};
    core::time_point updated{};
    std::optional<core::time_point> last_login;
    std::int64_t version = 1;  // bumps on every change; the SCIM ETag and the optimistic-lock token
};

// A group of users (RFC 7643 §4.2). Members are rows of their own in storage, never a list inside the
// group, so a group of 100,000 members changes one member at a time.
struct group {
    std::string id;
    std::string organization_id;
    std::string display_name;  // unique per organisation, case-insensitively (Entra ID matches on it)
    std::string external_id;
    core::time_point created{};
    core::time_point updated{};
    std::int64_t version = 1;
};

struct group_member {
    std::string user_id;
    std::string display;  // the member's userName, for the SCIM "display" sub-attribute
};

// One step of a membership change, applied in order inside one transaction (SCIM PATCH semantics).
struct group_change {
    enum class kind { rename, set_external_id, add_members, remove_members, remove_all_members, replace_members };
    kind type = kind::rename;
    std::string text;                   // rename, set_external_id
    std::vector<std::string> user_ids;  // add/remove/replace members
};

// A bearer credential. Only a SHA-256 digest of the secret is ever stored.
enum class token_kind { instance_admin, scim };
std::string_view to_string(token_kind k);
std::optional<token_kind> parse_token_kind(std::string_view text);

struct api_token {
    std::string id;
    token_kind kind = token_kind::scim;
    std::string organization_id;  // empty for instance-wide admin tokens
    std::string organization_slug;  // filled in by lookups, so authentication needs one query
    std::string connection_id;    // the IdP connection a SCIM token belongs to, if any
    std::string connection_name;  // filled in by lookups
    std::string name;
    std::string secret_hash;      // sha256 hex
    core::time_point created{};
    std::optional<core::time_point> expires;
    std::optional<core::time_point> revoked;
};

// Who made a change and from where: every write carries one, and it becomes the audit record's actor.
struct actor {
    std::string kind;  // "system", "instance_admin", "scim_client", "user"
    std::string id;
    std::string display;
    std::string client_address;
    std::string request_id;
    // The IdP connection writing through a SCIM token that belongs to one: its users are bound to it.
    std::string connection_id = {};
};

struct audit_record {
    std::int64_t id = 0;
    std::string organization_id;
    core::time_point at{};
    struct actor actor;
    std::string action;       // e.g. "organization.create", "user.update"
    std::string target_type;  // "organization", "user", ...
    std::string target_id;
    std::string target_display;
    std::string details_json = "{}";  // normalised change; never secret values
};

// One entry of an organisation's change feed, written in the same transaction as the change.
struct change_event {
    std::string organization_id;
    std::int64_t sequence = 0;  // gap-free and increasing per organisation
    core::time_point at{};
    std::string type;  // e.g. "user.created"
    std::string resource_type;
    std::string resource_id;
    std::string payload_json = "{}";
};

}  // namespace idgate::schema

namespace idgate::schema {

// The audit "what changed" for a user: a JSON object {"field": {"from": .., "to": ..}} with only the
// fields that differ. Never contains secrets (users carry none).
std::string describe_user_changes(const user& before, const user& after);

// A short JSON summary of a user for change events and audit records (id, userName, active, status,
// version): enough for a feed reader to decide whether to fetch the resource.
std::string summarize_user(const user& u);

}  // namespace idgate::schema
