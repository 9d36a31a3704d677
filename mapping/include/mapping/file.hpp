// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Mapping files: one YAML file per identity-provider connection, in a directory that admins edit,
// review and version like code (docs/mapping.md is the reference). A file is read whole and checked whole:
// an unknown key, an unknown role, a bad regular expression or a type error fails with
// "file:line:column: 'key.path': message" naming what would be accepted, and nothing of it is used.
#include <stdexcept>
#include <string>
#include <vector>

#include "mapping/rules.hpp"

namespace idgate::mapping {

class file_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What a connection's identity provider owns, and what happens when it takes someone away. Read and
// validated here; enforced by the read-only mirror.
struct connection_policy {
    std::vector<field> locked_fields;     // fields local user management may not change
    bool authorization_external = false;  // roles come from these rules only; local role changes refused
    // Local actions still allowed while this connection is in charge.
    bool allow_local_create = true, allow_local_invite = true, allow_local_delete = true,
         allow_local_password = true, allow_local_mfa = true;
    enum class deprovision { disable, remove };
    deprovision on_deactivate = deprovision::disable;  // SCIM active=false
    // SCIM DELETE. Deleting is RFC 7644 §3.6's meaning (a GET afterwards is 404); the audit trail is kept
    // either way. "disable" keeps the account, still visible to SCIM as active=false.
    deprovision on_delete = deprovision::remove;
    bool disable_without_grants = false;  // a user who loses every rule that granted access is disabled
    // A push or sign-in whose userName or email belongs to an account this connection does not manage:
    // refused (the IdP gets 409 uniqueness), linked when the account's owner verified that email address,
    // or held for an admin in /api/v1/identity-conflicts. Never taken over silently.
    enum class conflict_policy { reject, link_verified_email, queue };
    conflict_policy on_conflict = conflict_policy::reject;
};
std::string_view to_string(connection_policy::conflict_policy p);

struct mapping_file {
    std::string source;        // the path, for messages
    std::string organization;  // the organization's slug
    std::string connection;    // the IdP connection it belongs to (names are unique per organization)
    rule_set rules;
    connection_policy policy;
};

// Throws file_error.
mapping_file parse_mapping(const std::string& yaml_text, const std::string& source);
mapping_file load_mapping(const std::string& path);
// Every *.yaml / *.yml file of `directory`, all valid or none (file_error); two files for one
// connection is an error too.
std::vector<mapping_file> load_mapping_directory(const std::string& directory);

}  // namespace idgate::mapping
