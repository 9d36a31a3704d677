// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Mapping rules: what happens to an identity that arrives from an identity provider (a SCIM push, a SAML
// assertion, an OIDC ID token). One pure function, evaluate(), turns what the IdP said into local fields,
// a system role, scoped roles, permissions and a login decision, and says which rule produced each grant.
// No I/O: the SCIM, SAML and OIDC modules adapt their input to `identity`, and storage applies the outcome.
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "schema/account.hpp"

namespace idgate::mapping {

// What an identity provider said about a person, normalised across protocols. Attribute names are kept
// exactly as the IdP sends them (SAML names are case-sensitive URIs, OIDC claims case-sensitive names).
struct identity {
    std::map<std::string, std::vector<std::string>> attributes;
    // nullopt: the IdP did not say (Entra ID's group overage, INTEROP S2): group conditions are then
    // unknown, never "member of nothing".
    std::optional<std::vector<std::string>> groups;
};

// Local fields a mapping can set.
enum class field { user_name, email, given_name, family_name, display_name, title, department, locale, external_id };
std::string_view to_string(field f);
std::optional<field> parse_field(std::string_view text);

struct transform {
    enum class kind { lower, upper, trim, split, join, capture };
    kind type = kind::trim;
    std::string argument;  // split/join: the separator; capture: the pattern's text
    std::regex pattern;    // capture: the first group (or the whole match) becomes the value
};

struct attribute_mapping {
    field target = field::user_name;
    std::vector<std::string> sources;  // IdP attribute names, the first one present wins
    std::vector<transform> transforms;
    std::optional<std::string> default_value;
    bool required = false;  // a login or push without it is rejected, naming the field
};

// A condition tree. Group tests compare case-insensitively (IdPs differ in the case of group names);
// attribute tests compare exactly unless the value list says otherwise.
struct condition {
    enum class kind { always, all, any, negate, group_is, group_prefix, group_matches, attribute_equals, attribute_in,
                      attribute_matches, attribute_present };
    kind type = kind::always;
    std::vector<condition> children;  // all, any, negate (one child)
    std::string attribute;            // attribute_*
    std::vector<std::string> values;  // group_is, group_prefix, attribute_equals (one), attribute_in
    std::string pattern_text;
    std::regex pattern;               // group_matches, attribute_matches (whole-string match)
};

struct scoped_grant {
    schema::scope_kind kind = schema::scope_kind::workspace;
    std::string scope;  // the workspace or project name
    schema::scoped_role_name role = schema::scoped_role_name::viewer;
};

struct grant {
    std::optional<schema::system_role> system_role;
    int priority = 0;  // when several rules grant system roles, the highest priority wins (then the first)
    std::vector<scoped_grant> scoped;
    std::vector<std::string> permissions;
};

struct rule {
    std::string name;
    condition when;
    grant grants;
    bool deny_login = false;
};

struct rule_set {
    std::vector<attribute_mapping> attributes;
    // What every user from this IdP gets (JIT provisioning's "default role"): its scoped roles and
    // permissions always, its system role when no rule grants one.
    grant defaults;
    std::vector<rule> rules;
};

// Three-valued: a condition on groups the IdP did not send is unknown.
enum class truth { no, yes, unknown };
truth test(const condition& c, const identity& who);

// Where a grant came from: a rule's name, or "defaults".
struct provenance {
    std::string rule;
};

struct outcome {
    // Login decision. A deny rule that matches refuses; one whose condition is unknown refuses too (fail
    // closed), with `denied_unknown` set so the failure page and log can say why.
    bool denied = false;
    bool denied_unknown = false;
    std::string denied_by;
    std::vector<field> missing_required;  // non-empty: rejected, naming these fields

    std::map<field, std::string> fields;
    std::optional<schema::system_role> system_role;
    provenance system_role_from;
    std::vector<std::pair<scoped_grant, provenance>> scoped;  // one per scope: the most privileged grant
    std::vector<std::pair<std::string, provenance>> permissions;
    // Rules whose condition was unknown: reconciliation keeps what they granted before rather than
    // removing it (a missing groups claim must never strip roles).
    std::vector<std::string> undetermined_rules;

    bool accepted() const { return !denied && missing_required.empty(); }
};

outcome evaluate(const rule_set& rules, const identity& who);

}  // namespace idgate::mapping
