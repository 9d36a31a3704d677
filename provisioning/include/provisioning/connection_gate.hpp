// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The answers a connection's mapping file gives the SCIM handlers (scim::identity_gate): fields and
// required attributes, identity conflicts, deprovisioning, and reconciliation right after a write.
#include <memory>
#include <string>

#include "mapping/registry.hpp"
#include "provisioning/reconciler.hpp"
#include "scim/identity_gate.hpp"

namespace idgate::provisioning {

struct connection_ref {
    std::string organization_id, organization_slug;
    std::string connection_id, connection_name;
};

// The outcome's mapped fields onto a user (the one place that knows which local field is which user
// attribute; email sets the primary address, adding one when there is none).
void apply_mapped_fields(const mapping::outcome& o, schema::user& u);

class connection_gate final : public scim::identity_gate {
public:
    // `rules`: the snapshot the request started with (a reload meanwhile does not change its answers).
    connection_gate(store::store& db, reconciler& reconciler, std::shared_ptr<const mapping::snapshot> rules,
                    connection_ref connection, const scim::extension_registry& extensions, schema::actor actor);

    void prepare(schema::user& u) const override;
    bool manages(const schema::user& existing) const override;
    void claim(const schema::user& existing, const schema::user& incoming, const std::string& body_json) const override;
    std::vector<schema::user> email_collisions(const schema::user& incoming) const override;
    deprovision on_deactivate() const override;
    deprovision on_delete() const override;
    void settle(const std::vector<std::string>& user_ids) const override;

private:
    mapping::connection_policy policy() const;

    store::store& db_;
    reconciler& reconciler_;
    std::shared_ptr<const mapping::snapshot> rules_;
    const mapping::mapping_file* file_;  // null: the connection has no mapping file (default policies)
    connection_ref connection_;
    const scim::extension_registry& extensions_;
    schema::actor actor_;
};

}  // namespace idgate::provisioning
