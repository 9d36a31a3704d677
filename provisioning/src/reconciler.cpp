// SPDX-License-Identifier: AGPL-3.0-or-later
#include "provisioning/reconciler.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/log.hpp"
#include "mapping/explain.hpp"
#include "scim/user_codec.hpp"

namespace idgate::provisioning {

mapping::identity identity_of(const schema::user& u, const scim::extension_registry& extensions) {
    auto who = mapping::identity_from_json(scim::user_to_json(u, "", extensions));
    // A SCIM user without a "groups" attribute is a member of no group: SCIM knows every membership, so
    // here (unlike a SAML assertion without a groups attribute) no groups is a fact, not an unknown.
    if (!who.groups) who.groups.emplace();
    return who;
}

std::string identity_to_json(const mapping::identity& who) {
    boost::json::object attributes;
    for (const auto& [name, values] : who.attributes) {
        boost::json::array list;
        for (const auto& v : values) list.emplace_back(v);
        attributes[name] = std::move(list);
    }
    boost::json::object doc{{"attributes", std::move(attributes)}};
    if (who.groups) {
        boost::json::array groups;
        for (const auto& g : *who.groups) groups.emplace_back(g);
        doc["groups"] = std::move(groups);
    } else {
        doc["groups"] = nullptr;
    }
    return boost::json::serialize(doc);
}

mapping::identity identity_from_stored_json(const std::string& text) {
    mapping::identity who;
    boost::system::error_code ec;
    const auto doc = boost::json::parse(text, ec);
    if (ec || !doc.is_object()) return who;
    if (const auto* a = doc.as_object().if_contains("attributes"); a && a->is_object())
        for (const auto& [name, values] : a->as_object())
            if (values.is_array())
                for (const auto& v : values.as_array())
                    if (v.is_string()) who.attributes[std::string(name)].emplace_back(v.as_string());
    if (const auto* g = doc.as_object().if_contains("groups"); g && g->is_array()) {
        std::vector<std::string> groups;
        for (const auto& v : g->as_array())
            if (v.is_string()) groups.emplace_back(v.as_string());
        who.groups = std::move(groups);
    }
    return who;
}

store::desired_grants desired_for(const mapping::mapping_file& file, const mapping::outcome& o) {
    store::desired_grants d;
    d.system_role = o.system_role;
    d.system_role_rule = o.system_role_from.rule;
    for (const auto& [s, from] : o.scoped) d.scoped_roles.push_back({s.kind, s.scope, s.role, from.rule});
    for (const auto& [name, from] : o.permissions) d.permissions.push_back({name, from.rule});
    d.keep_rules = o.undetermined_rules;
    if (file.policy.disable_without_grants && o.undetermined_rules.empty()) {
        // Access comes from rules; the defaults alone do not count as being granted access.
        const bool granted = (o.system_role && o.system_role_from.rule != "defaults") ||
                             std::any_of(o.scoped.begin(), o.scoped.end(),
                                         [](const auto& s) { return s.second.rule != "defaults"; }) ||
                             std::any_of(o.permissions.begin(), o.permissions.end(),
                                         [](const auto& p) { return p.second.rule != "defaults"; });
        d.disable = !granted;
    }
    return d;
}

reconciler::reconciler(store::store& db, const scim::extension_registry& extensions)
    : db_(db), extensions_(extensions) {}

std::optional<store::reconcile_result> reconciler::reconcile_one(const mapping::mapping_file& file,
                                                                 const std::string& organization_id,
                                                                 const std::string& user_id,
                                                                 const std::string& connection_id, bool dry_run) {
    const auto user = db_.get_user(organization_id, user_id);
    if (!user) return std::nullopt;  // deleted meanwhile
    // The IdP's latest word: the last sign-in's claims or assertion if that came last, else the user as
    // SCIM pushed it (with its group memberships).
    const auto signed_in = db_.identities().sign_in_identity(connection_id, user_id);
    const auto outcome = mapping::evaluate(
        file.rules, signed_in ? identity_from_stored_json(*signed_in) : identity_of(*user, extensions_));
    const schema::actor by{"system", "mapping:" + file.connection, "mapping rules of connection " + file.connection,
                           "", "", ""};
    auto r = db_.identities().reconcile_grants(organization_id, user_id, connection_id, desired_for(file, outcome),
                                               dry_run, by);
    if (!r) return std::nullopt;
    return *r;
}

void reconciler::process(const mapping::snapshot& rules, const store::pending_evaluation& p, drain_result& out) {
    if (const auto* file = rules.find(p.organization_slug, p.connection_name)) {
        const auto r = reconcile_one(*file, p.organization_id, p.user_id, p.connection_id, false);
        if (r && r->changed()) {
            ++out.changed;
            changed_.fetch_add(1);
            core::log::info("mapping: grants reconciled", {{"organization", p.organization_slug},
                                                          {"connection", p.connection_name},
                                                          {"user", r->user_name},
                                                          {"changes", r->changes.size()}});
        }
    }
    db_.identities().finish_pending(p);
    ++out.evaluated;
    evaluated_.fetch_add(1);
}

drain_result reconciler::drain(const mapping::snapshot& rules, std::int64_t max) {
    drain_result out;
    runs_.fetch_add(1);
    while (out.evaluated < max) {
        const auto batch = db_.identities().next_pending(std::min<std::int64_t>(100, max - out.evaluated));
        for (const auto& p : batch) process(rules, p, out);
        // An entry queued again while it was evaluated stays in the queue and would come straight back:
        // a short batch ends the drain, so one busy user cannot hold it forever.
        if (static_cast<std::int64_t>(batch.size()) < 100) break;
    }
    return out;
}

drain_result reconciler::drain_users(const mapping::snapshot& rules, const std::vector<std::string>& user_ids) {
    drain_result out;
    for (const auto& id : user_ids)
        for (const auto& p : db_.identities().pending_for_user(id)) process(rules, p, out);
    return out;
}

std::int64_t reconciler::queue_all(const std::vector<mapping::mapping_file>& files) {
    std::int64_t queued = 0;
    for (const auto& f : files) {
        const auto org = db_.find_organization_by_slug(f.organization);
        if (!org) continue;
        const auto connection = db_.identities().find_connection(org->id, f.connection);
        if (!connection) continue;  // no token or login has used it yet: nobody is bound to it
        queued += db_.identities().queue_connection(connection->id);
    }
    return queued;
}

std::vector<store::reconcile_result> reconciler::plan(const mapping::mapping_file& file, std::int64_t limit,
                                                      std::int64_t& examined) {
    std::vector<store::reconcile_result> out;
    examined = 0;
    const auto org = db_.find_organization_by_slug(file.organization);
    if (!org) return out;
    const auto connection = db_.identities().find_connection(org->id, file.connection);
    if (!connection) return out;
    std::string after;
    for (;;) {
        const auto users = db_.identities().bound_users(connection->id, after, 500);
        if (users.empty()) break;
        for (const auto& id : users) {
            ++examined;
            auto r = reconcile_one(file, org->id, id, connection->id, /*dry_run=*/true);
            if (r && r->changed() && static_cast<std::int64_t>(out.size()) < limit) out.push_back(std::move(*r));
        }
        after = users.back();
    }
    return out;
}

reconciler_totals reconciler::totals() const { return {evaluated_.load(), changed_.load(), runs_.load()}; }

}  // namespace idgate::provisioning
