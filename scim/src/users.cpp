// SPDX-License-Identifier: AGPL-3.0-or-later
// /Users: create, read, list and search, replace, patch, delete (RFC 7644 §3.3-§3.6).
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "core/crypto.hpp"
#include "core/json_body.hpp"
#include "scim/filter_parser.hpp"
#include "scim/patch.hpp"
#include "scim/service.hpp"
#include "scim/user_codec.hpp"
#include "http_helpers.hpp"

namespace idgate::scim {
namespace json = boost::json;
using namespace detail;

namespace {

std::string location(const context& c, const std::string& id) { return c.base_url + "/Users/" + id; }

core::response user_response(const context& c, int status, const schema::user& u, const projection& p) {
    auto body = user_to_json(u, location(c, u.id), c.extensions);
    apply_projection(body, p);
    auto r = scim_json(status, body);
    r.headers.emplace_back("ETag", etag(u.version));
    if (status == 201) r.headers.emplace_back("Location", location(c, u.id));
    return r;
}

core::http_error not_found(const std::string& id) {
    return core::http_error(404, "not_found", "no User with id '" + id + "' in this organization");
}

core::http_error user_name_taken(const std::string& user_name) {
    // RFC 7644 §3.3: 409 with scimType uniqueness. The detail is for the IdP admin reading the log.
    return core::http_error(409, "uniqueness",
                            "userName '" + user_name +
                                "' is already taken in this organization (userName is unique, case-insensitively)")
        .with_scim_type("uniqueness");
}

// Deactivation through SCIM (active=false) disables the account; reactivation enables it. Invited
// (pending) users stay pending until they activate.
void sync_status(schema::user& u) {
    if (!u.active) u.status = schema::user_status::disabled;
    else if (u.status == schema::user_status::disabled) u.status = schema::user_status::active;
}

schema::user load(const context& c, const std::string& id) {
    auto u = c.db.get_user(c.organization.id, id);
    if (!u) throw not_found(id);
    return *u;
}

// Writes `next` over the stored user whose version the caller read. Maps storage outcomes to SCIM.
schema::user store_update(const context& c, const schema::user& next, std::int64_t read_version) {
    auto updated = c.db.update_user(next, read_version, c.actor);
    if (updated) return *updated;
    if (updated.error() == store::errc::already_exists) throw user_name_taken(next.user_name);
    if (updated.error() == store::errc::not_found) throw not_found(next.id);
    if (updated.error() == store::errc::version_mismatch) throw precondition_failed(read_version);
    throw core::http_error(500, "internal_error", "could not update the user", updated.error().message());
}

// The connection's policy linked an existing account: the push now writes to it, as a PUT would.
schema::user take_over(const context& c, const schema::user& existing, const schema::user& pushed) {
    schema::user next = pushed;
    next.id = existing.id;
    next.organization_id = existing.organization_id;
    auto stored = store_update(c, next, existing.version);
    c.gate->settle({stored.id});
    return stored;
}

// A write by a connection to an account it does not manage goes through its identity-conflict policy.
void guard(const context& c, const schema::user& current, const schema::user& next, const json::object& body) {
    if (c.gate && !c.gate->manages(current)) c.gate->claim(current, next, json::serialize(body));
}

// Deletes a user whom the connection just deactivated, when its policy says deactivation deletes.
void remove_deactivated(const context& c, const schema::user& u) {
    auto r = c.db.delete_user(c.organization.id, u.id, std::nullopt, c.actor);
    if (!r && r.error() != store::errc::not_found)
        throw core::http_error(500, "internal_error", "could not delete the deactivated user", r.error().message());
}

// The connection's deprovisioning policy: active=false may mean delete.
bool deletes_on_deactivate(const context& c, const schema::user& before, const schema::user& after) {
    return c.gate && before.active && !after.active &&
           c.gate->on_deactivate() == identity_gate::deprovision::remove;
}

// A cursor is opaque to clients (RFC 9865 §2): base64url of "<created>|<id>" of the last user returned.
std::string encode_cursor(const schema::user& u) {
    return core::base64url_encode(core::format_timestamp(u.created) + "|" + u.id);
}

store::user_position decode_cursor(std::string_view cursor) {
    // RFC 9865 §5: scimType invalidCursor.
    const auto invalid = [] { return bad_request("invalidCursor", "the cursor is not one this server issued"); };
    std::string raw;
    if (cursor.size() > 200 || !core::base64url_decode(cursor, raw)) throw invalid();
    const auto bar = raw.find('|');
    if (bar == std::string::npos) throw invalid();
    const auto created = core::parse_timestamp(std::string_view(raw).substr(0, bar));
    if (!created || bar + 1 >= raw.size()) throw invalid();
    return {*created, raw.substr(bar + 1)};
}

struct list_request {
    std::string filter;
    std::optional<std::string> cursor;  // RFC 9865: present (even empty) selects cursor paging
    bool start_index_given = false;
    std::int64_t start_index = 1;
    std::int64_t count = default_page_size;
    std::string sort_by;
    bool descending = false;
    projection fields;
};

// The extension attributes a filter may name (they live in the user's extensions JSON): the enterprise
// extension's, except department (a column), and the single-valued simple attributes of configured
// extensions, each compared by its declared type and caseExact (RFC 7643 §2.2, §7).
std::vector<store::extension_attribute> filterable_extension_attributes(const extension_registry& registry) {
    using vt = store::extension_attribute::value_type;
    std::vector<store::extension_attribute> out;
    const std::string enterprise{enterprise_user_urn};
    for (const char* name : {"employeeNumber", "costCenter", "organization", "division"})
        out.push_back({enterprise, name, "", vt::string});
    out.push_back({enterprise, "manager", "value", vt::string});
    for (const auto& def : registry.user_extensions)
        for (const auto& a : def.attributes) {
            if (a.multi_valued || a.type == attribute_type::complex) continue;
            vt type = a.case_exact ? vt::case_exact_string : vt::string;
            if (a.type == attribute_type::boolean) type = vt::boolean;
            else if (a.type == attribute_type::integer) type = vt::integer;
            else if (a.type == attribute_type::decimal) type = vt::decimal;
            else if (a.type == attribute_type::date_time) type = vt::date_time;
            out.push_back({def.id, a.name, "", type});
        }
    return out;
}

// The store query a list request asks (filter parsed and checked, paging clamped), or a 400.
struct list_plan {
    store::user_query q;
    std::int64_t start_index = 1;
};

// Sets the page a list request asks for on q: RFC 7644 §3.4.2.4 paging, clamped to what we advertise, or
// RFC 9865 cursor paging. Returns the startIndex to report.
std::int64_t apply_paging(const list_request& lr, store::user_query& q) {
    const auto window = page_of(lr.start_index, lr.count);
    q.offset = window.offset;
    q.limit = window.limit;
    if (lr.cursor) {
        if (lr.start_index_given)
            throw bad_request("invalidValue", "use either startIndex or cursor, not both (RFC 9865)");
        if (!lr.sort_by.empty() || lr.descending)
            throw bad_request("invalidValue", "cursor paging follows creation order; it cannot be combined with sortBy");
        if (!lr.cursor->empty()) q.after = decode_cursor(*lr.cursor);
        q.offset = 0;
        if (q.limit > 0) q.limit += 1;  // one more row says whether there is a next page
    }
    return window.start_index;
}

list_plan plan_list(const context& c, const list_request& lr) {
    store::user_query q;
    q.organization_id = c.organization.id;
    if (!lr.filter.empty()) {
        auto parsed = parse_filter(lr.filter);
        if (!parsed) throw bad_request("invalidFilter", "invalid filter: " + parsed.error.describe());
        q.filter = parsed.filter;
        q.extension_attributes = filterable_extension_attributes(c.extensions);
    }
    const std::int64_t start = apply_paging(lr, q);
    q.sort_by = lr.sort_by;
    q.descending = lr.descending;
    if (auto why = store::validate(q)) {
        // Which part is wrong: an attribute the filter cannot use makes an invalid filter, never a silently
        // widened one; otherwise it is the sort. (Checked only on failure: validating translates the query.)
        store::user_query filter_only = q;
        filter_only.sort_by.clear();
        if (auto filter_why = store::validate(filter_only)) throw bad_request("invalidFilter", *filter_why);
        throw bad_request("invalidValue", *why);
    }
    return {std::move(q), start};
}

// The ListResponse for the page the plan's query found (RFC 7644 §3.4.2).
core::response render_list(const context& c, const list_request& lr, const list_plan& plan,
                           store::result<store::user_page> page) {
    if (!page) throw core::http_error(500, "internal_error", "the query failed", page.error().message());
    std::optional<std::string> next_cursor;
    if (lr.cursor && static_cast<std::int64_t>(page->users.size()) == plan.q.limit && plan.q.limit > 0) {
        page->users.pop_back();
        next_cursor = encode_cursor(page->users.back());
    }
    const std::int64_t start = plan.start_index;
    json::array resources;
    for (const auto& u : page->users) {
        auto body = user_to_json(u, location(c, u.id), c.extensions);
        apply_projection(body, lr.fields);
        resources.push_back(std::move(body));
    }
    json::object body{{"schemas", json::array{list_response_urn}}, {"totalResults", page->total}};
    if (!lr.cursor) body["startIndex"] = start;
    body["itemsPerPage"] = static_cast<std::int64_t>(resources.size());
    if (next_cursor) body["nextCursor"] = *next_cursor;
    body["Resources"] = std::move(resources);
    return scim_json(200, body);
}

core::response run_list(const context& c, const list_request& lr) {
    const auto plan = plan_list(c, lr);
    return render_list(c, lr, plan, c.db.find_users(plan.q));
}

bool descending_from(std::string_view order) {
    if (order.empty() || iequals(order, "ascending")) return false;
    if (iequals(order, "descending")) return true;
    throw bad_request("invalidValue", "sortOrder must be \"ascending\" or \"descending\"");
}

list_request list_request_from(const core::request& req) {
    list_request lr;
    if (auto f = req.query_param("filter")) lr.filter = std::string(*f);
    if (auto cursor = req.query_param("cursor")) lr.cursor = std::string(*cursor);
    lr.start_index_given = req.query_param("startIndex").has_value();
    lr.start_index = integer_param(req, "startIndex", 1);
    lr.count = integer_param(req, "count", default_page_size);
    if (auto s = req.query_param("sortBy")) lr.sort_by = std::string(*s);
    if (auto o = req.query_param("sortOrder")) lr.descending = descending_from(*o);
    lr.fields = projection_from(req);
    return lr;
}

}  // namespace

namespace users {

core::response list(const context& c, const core::request& req) { return run_list(c, list_request_from(req)); }

std::optional<store::user_key> list_key(const context& c, const core::request& req) {
    return store::single_user_key(plan_list(c, list_request_from(req)).q);
}

core::response answer_list(const context& c, const core::request& req, store::result<schema::user>&& found) {
    // list_key planned this request (its filter parsed and checked) before the read; the answer needs
    // only the page, so the filter is not parsed again on the I/O thread.
    const auto lr = list_request_from(req);
    list_plan plan;
    plan.q.organization_id = c.organization.id;
    plan.start_index = apply_paging(lr, plan.q);
    return render_list(c, lr, plan, store::page_of_single_user(plan.q, std::move(found)));
}

core::response search(const context& c, const core::request& req) {
    // RFC 7644 §3.4.3: the same query, in a SearchRequest body (keeps filters out of URLs and logs).
    const auto body = body_object(req);
    list_request lr;
    bool schema_ok = false;
    for (const auto& kv : body) {
        const auto& v = kv.value();
        const auto key = kv.key();
        const auto string_list = [&](std::vector<std::string>& out) {
            if (!v.is_array()) throw bad_request("invalidSyntax", "'" + std::string(key) + "' must be an array of strings");
            for (const auto& s : v.as_array()) {
                if (!s.is_string()) throw bad_request("invalidSyntax", "'" + std::string(key) + "' must be an array of strings");
                out.emplace_back(s.as_string());
            }
        };
        if (iequals(key, "schemas")) {
            if (v.is_array())
                for (const auto& s : v.as_array()) schema_ok = schema_ok || (s.is_string() && iequals(s.as_string(), search_request_urn));
        } else if (iequals(key, "filter")) {
            if (!v.is_string()) throw bad_request("invalidSyntax", "'filter' must be a string");
            lr.filter = std::string(v.as_string());
        } else if (iequals(key, "startIndex") || iequals(key, "count")) {
            if (!v.is_int64()) throw bad_request("invalidValue", "'" + std::string(key) + "' must be an integer");
            (iequals(key, "count") ? lr.count : lr.start_index) = v.as_int64();
            lr.start_index_given = lr.start_index_given || iequals(key, "startIndex");
        } else if (iequals(key, "cursor")) {
            if (!v.is_string()) throw bad_request("invalidSyntax", "'cursor' must be a string");
            lr.cursor = std::string(v.as_string());
        } else if (iequals(key, "sortBy")) {
            if (!v.is_string()) throw bad_request("invalidSyntax", "'sortBy' must be a string");
            lr.sort_by = std::string(v.as_string());
        } else if (iequals(key, "sortOrder")) {
            if (!v.is_string()) throw bad_request("invalidSyntax", "'sortOrder' must be a string");
            lr.descending = descending_from(v.as_string());
        } else if (iequals(key, "attributes")) {
            string_list(lr.fields.attributes);
        } else if (iequals(key, "excludedAttributes")) {
            string_list(lr.fields.excluded);
        } else {
            throw bad_request("invalidSyntax", "unknown member '" + std::string(key) + "' in a SearchRequest");
        }
    }
    if (!schema_ok) throw bad_request("invalidSyntax", "'schemas' must be [\"" + std::string(search_request_urn) + "\"]");
    return run_list(c, lr);
}

core::response create(const context& c, const core::request& req) {
    const auto body = body_object(req);
    schema::user u;
    u.organization_id = c.organization.id;
    user_from_json(body, u, c.extensions);
    sync_status(u);
    if (c.gate) {
        c.gate->prepare(u);
        // An account the connection does not manage, with the same primary email: the connection's
        // identity-conflict policy decides; it is never taken over silently.
        for (const auto& existing : c.gate->email_collisions(u)) {
            c.gate->claim(existing, u, json::serialize(body));
            return user_response(c, 201, take_over(c, existing, u), projection_from(req));
        }
    }
    auto created = c.db.create_user(u, c.actor);
    if (!created && created.error() == store::errc::already_exists && c.gate) {
        auto existing = c.db.find_user_by_user_name(c.organization.id, u.user_name);
        if (existing && !c.gate->manages(*existing)) {
            c.gate->claim(*existing, u, json::serialize(body));
            return user_response(c, 201, take_over(c, *existing, u), projection_from(req));
        }
        if (!existing)  // the name is free: the externalId is bound to another account of this connection
            throw core::http_error(409, "uniqueness",
                                   "externalId '" + u.external_id + "' already identifies another user of this connection")
                .with_scim_type("uniqueness");
    }
    if (!created) {
        if (created.error() != store::errc::already_exists)
            throw core::http_error(500, "internal_error", "could not create the user", created.error().message());
        // The name may belong to an account the client cannot see (local user management's, INTEROP O14):
        // say so, so that the IdP admin reading the provisioning log knows what to ask for.
        if (!c.gate && !c.db.read_user({store::user_key::kind::user_name, c.organization.id, u.user_name}) &&
            c.db.find_user_by_user_name(c.organization.id, u.user_name))
            throw core::http_error(409, "uniqueness",
                                   "userName '" + u.user_name +
                                       "' belongs to an account made in idgate's own user management, which SCIM "
                                       "clients do not see; an idgate admin can delete it, or link it by pushing "
                                       "through an identity-provider connection whose identity_conflicts policy "
                                       "links accounts")
                .with_scim_type("uniqueness");
        throw user_name_taken(u.user_name);
    }
    if (c.gate) c.gate->settle({created->id});
    return user_response(c, 201, *created, projection_from(req));
}

core::response get(const context& c, const core::request& req) {
    return answer_get(c, req, c.db.read_user(get_key(c, req)));
}

store::user_key get_key(const context& c, const core::request& req) {
    return {store::user_key::kind::id, c.organization.id, std::string(req.param("id"))};
}

core::response answer_get(const context& c, const core::request& req, store::result<schema::user>&& found) {
    if (!found) {
        if (found.error() == store::errc::not_found) throw not_found(std::string(req.param("id")));
        throw core::http_error(500, "internal_error", "could not read the user", found.error().message());
    }
    // RFC 7644 §3.14: If-None-Match with the current version answers 304 Not Modified.
    if (auto unchanged = not_modified(req, found->version)) return *unchanged;
    return user_response(c, 200, *found, projection_from(req));
}

core::response replace(const context& c, const core::request& req) {
    const auto body = body_object(req);
    const auto current = load(c, std::string(req.param("id")));
    const auto expected = if_match(req);
    if (expected && *expected != current.version) throw precondition_failed(current.version);
    // PUT replaces every writable attribute: one the body omits is cleared (RFC 7644 §3.5.1). "active"
    // defaults to true when omitted, so a PUT without it never deactivates by accident (INTEROP O6).
    schema::user next = current;
    user_from_json(body, next, c.extensions);
    sync_status(next);
    if (c.gate) c.gate->prepare(next);
    guard(c, current, next, body);
    auto stored = store_update(c, next, current.version);
    if (deletes_on_deactivate(c, current, stored)) remove_deactivated(c, stored);
    else if (c.gate) c.gate->settle({stored.id});
    return user_response(c, 200, stored, projection_from(req));
}

core::response patch(const context& c, const core::request& req) {
    const auto body = body_object(req);
    const std::string id{req.param("id")};
    const auto expected = if_match(req);
    std::optional<schema::user> before;
    if (c.gate) {
        // Whether the connection may write to this account is settled before the transaction.
        before = load(c, id);
        guard(c, *before, *before, body);
    }
    // The operations run inside the storage transaction, on the locked current state: concurrent
    // PATCHes of one user apply one after the other and none is lost (INTEROP R5).
    bool was_active = true;
    auto updated = c.db.modify_user(
        c.organization.id, id,
        [&](schema::user& u) {
            if (expected && *expected != u.version) throw precondition_failed(u.version);
            was_active = u.active;
            auto doc = user_to_json(u, location(c, id), c.extensions);
            apply_patch(doc, body, user_attributes(c.extensions));
            user_from_json(doc, u, c.extensions);
            sync_status(u);
            if (c.gate) c.gate->prepare(u);
        },
        c.actor);
    if (updated) {
        schema::user previous = *updated;
        previous.active = was_active;
        if (deletes_on_deactivate(c, previous, *updated)) remove_deactivated(c, *updated);
        else if (c.gate) c.gate->settle({updated->id});
        return user_response(c, 200, *updated, projection_from(req));
    }
    if (updated.error() == store::errc::not_found) throw not_found(id);
    if (updated.error() == store::errc::already_exists) {
        // The new userName collides; say which one without re-reading.
        throw core::http_error(409, "uniqueness", "the new userName is already taken in this organization")
            .with_scim_type("uniqueness");
    }
    throw core::http_error(500, "internal_error", "could not update the user", updated.error().message());
}

core::response remove(const context& c, const core::request& req) {
    const std::string id{req.param("id")};
    if (c.gate) {
        const auto current = load(c, id);
        guard(c, current, current, json::object{});
        if (c.gate->on_delete() == identity_gate::deprovision::disable) {
            // The connection keeps deleted users' accounts, disabled (its deprovisioning policy).
            const auto expected = if_match(req);
            if (expected && *expected != current.version) throw precondition_failed(current.version);
            schema::user next = current;
            next.active = false;
            sync_status(next);
            store_update(c, next, current.version);
            c.gate->settle({current.id});
            return core::response::no_content();
        }
    }
    // The version check happens in the deleting transaction: a change between a check here and the
    // delete cannot slip through (RFC 7644 §3.14).
    auto r = c.db.delete_user(c.organization.id, id, if_match(req), c.actor);
    if (!r) {
        if (r.error() == store::errc::not_found) throw not_found(id);
        if (r.error() == store::errc::version_mismatch) throw precondition_failed(load(c, id).version);
        throw core::http_error(500, "internal_error", "could not delete the user", r.error().message());
    }
    return core::response::no_content();
}

}  // namespace users
}  // namespace idgate::scim
