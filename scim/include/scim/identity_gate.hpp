// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// What the identity-provider connection behind a SCIM token decides about the users it pushes: its mapping
// rules (fields, required attributes, grants) and its policies (identity conflicts, deprovisioning). The
// SCIM handlers ask; the provisioning module answers. Tokens without a connection have no gate, and SCIM
// then behaves as plain RFC 7644.
#include <string>
#include <vector>

#include "schema/model.hpp"

namespace idgate::scim {

class identity_gate {
public:
    virtual ~identity_gate() = default;

    // Applies the connection's attribute mapping to a user about to be stored (transforms, defaults).
    // Throws core::http_error 400 invalidValue naming the required fields the push lacks.
    virtual void prepare(schema::user& u) const = 0;

    // Whether the connection manages this account (it pushed it, or it was linked to it).
    virtual bool manages(const schema::user& existing) const = 0;
    // The push would write to `existing`, an account the connection does not manage (same userName or
    // email, or a write to its id). Returns when the connection's policy links the account to it; throws
    // 409 uniqueness with a detail an IdP admin can act on when it refuses or holds it for an admin.
    // `body_json` is what the IdP sent, kept with a held conflict.
    virtual void claim(const schema::user& existing, const schema::user& incoming, const std::string& body_json) const = 0;
    // Unmanaged accounts that a new user with this primary email would collide with.
    virtual std::vector<schema::user> email_collisions(const schema::user& incoming) const = 0;

    enum class deprovision { disable, remove };
    virtual deprovision on_deactivate() const = 0;  // SCIM active=false
    virtual deprovision on_delete() const = 0;      // SCIM DELETE

    // After a write: works out the grants of these users now, so that whoever reads their roles next sees
    // them. Other queued work (a group rename's members) is left to the background reconciler, as is this
    // work if it fails (logged); the write stands either way.
    virtual void settle(const std::vector<std::string>& user_ids) const = 0;
};

}  // namespace idgate::scim
