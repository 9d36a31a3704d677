// SPDX-License-Identifier: AGPL-3.0-or-later
#include "scim/schema_definitions.hpp"

#include <algorithm>
#include <cctype>

namespace idgate::scim {
namespace json = boost::json;
using t = attribute_type;

namespace {

attribute_definition text(std::string_view name, std::string_view description) {
    attribute_definition a;
    a.name = std::string(name);
    a.description = std::string(description);
    return a;
}

attribute_definition flag(std::string_view name, std::string_view description) {
    auto a = text(name, description);
    a.type = t::boolean;
    return a;
}

// The {value, display, type, primary} shape of emails, phoneNumbers, ims, photos, roles, entitlements.
attribute_definition multi(std::string_view name, std::string_view description, std::vector<std::string> types = {},
                           attribute_type value_type = t::string) {
    attribute_definition a = text(name, description);
    a.type = t::complex;
    a.multi_valued = true;
    attribute_definition value = text("value", "The value.");
    value.type = value_type;
    attribute_definition type = text("type", "A label indicating the attribute's function.");
    type.canonical_values = std::move(types);
    a.sub_attributes = {value, text("display", "A human-readable name, primarily used for display purposes."), type,
                        flag("primary", "Whether this is the preferred value; at most one value is primary.")};
    return a;
}

attribute_definition read_only(attribute_definition a) {
    a.mutability = mutability::read_only;
    for (auto& s : a.sub_attributes) s.mutability = mutability::read_only;
    return a;
}

}  // namespace

const schema_definition& user_schema() {
    static const schema_definition s = [] {
        schema_definition d{"urn:ietf:params:scim:schemas:core:2.0:User", "User", "User Account", {}};
        auto user_name = text("userName", "Unique identifier for the User, unique per organization.");
        user_name.required = true;
        user_name.uniqueness = uniqueness::server;
        auto name = text("name", "The components of the user's real name.");
        name.type = t::complex;
        name.sub_attributes = {text("formatted", "The full name."), text("familyName", "The family name."),
                               text("givenName", "The given name."), text("middleName", "The middle name(s)."),
                               text("honorificPrefix", "The honorific prefix(es)."),
                               text("honorificSuffix", "The honorific suffix(es).")};
        auto profile_url = text("profileUrl", "A URI of the User's online profile.");
        profile_url.type = t::reference;
        profile_url.reference_types = {"external"};
        auto password = text("password", "Write-only; idgate does not store passwords pushed by an IdP.");
        password.mutability = mutability::write_only;
        password.returned = returned::never;
        auto addresses = text("addresses", "Physical mailing addresses, kept as received.");
        addresses.type = t::complex;
        addresses.multi_valued = true;
        addresses.sub_attributes = {text("formatted", ""), text("streetAddress", ""), text("locality", ""),
                                    text("region", ""), text("postalCode", ""), text("country", ""),
                                    text("type", ""), flag("primary", "")};
        auto groups = read_only(multi("groups", "Groups the user belongs to (read-only; change them on the Group)."));
        d.attributes = {user_name,
                        name,
                        text("displayName", "The name displayed to end users."),
                        text("nickName", "The casual way to address the user."),
                        profile_url,
                        text("title", "The user's title."),
                        text("userType", "The relationship between the organization and the user."),
                        text("preferredLanguage", "Preferred written or spoken language."),
                        text("locale", "Default location for localization."),
                        text("timezone", "Time zone in IANA format."),
                        flag("active", "Whether the user may sign in; false disables the user and ends sessions."),
                        password,
                        multi("emails", "Email addresses (never unique).", {"work", "home", "other"}),
                        multi("phoneNumbers", "Phone numbers.", {"work", "home", "mobile", "fax", "pager", "other"}),
                        multi("ims", "Instant messaging addresses, kept as received."),
                        multi("photos", "URLs of photos, kept as received.", {"photo", "thumbnail"}, t::reference),
                        addresses,
                        groups,
                        multi("entitlements", "Entitlements, kept as received."),
                        multi("roles", "Roles, kept as received."),
                        multi("x509Certificates", "Certificates, kept as received.", {}, t::binary)};
        return d;
    }();
    return s;
}

const schema_definition& enterprise_user_schema() {
    static const schema_definition s = [] {
        schema_definition d{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "EnterpriseUser",
                            "Enterprise User", {}};
        auto manager = text("manager", "The user's manager (a bare id string is accepted too).");
        manager.type = t::complex;
        auto ref = text("$ref", "The URI of the manager's User resource.");
        ref.type = t::reference;
        ref.reference_types = {"User"};
        auto display = text("displayName", "The manager's display name.");
        display.mutability = mutability::read_only;
        manager.sub_attributes = {text("value", "The id of the manager's User resource."), ref, display};
        d.attributes = {text("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
                        text("costCenter", "Name of a cost center."),
                        text("organization", "Name of an organization."),
                        text("division", "Name of a division."),
                        text("department", "Name of a department."),
                        manager};
        return d;
    }();
    return s;
}

const schema_definition& group_schema() {
    static const schema_definition s = [] {
        schema_definition d{"urn:ietf:params:scim:schemas:core:2.0:Group", "Group", "Group", {}};
        auto display = text("displayName", "A human-readable name for the Group, unique per organization.");
        display.required = true;
        display.uniqueness = uniqueness::server;
        auto members = text("members", "The members of the Group (Users).");
        members.type = t::complex;
        members.multi_valued = true;
        auto value = text("value", "The id of a member User.");
        value.mutability = mutability::immutable;
        value.case_exact = true;
        auto ref = text("$ref", "The URI of the member User.");
        ref.type = t::reference;
        ref.reference_types = {"User"};
        ref.mutability = mutability::immutable;
        auto type = text("type", "The type of the member; only \"User\" is supported.");
        type.canonical_values = {"User"};
        type.mutability = mutability::immutable;
        auto member_display = text("display", "The member's userName.");
        member_display.mutability = mutability::read_only;
        members.sub_attributes = {value, ref, type, member_display};
        d.attributes = {display, members};
        return d;
    }();
    return s;
}

namespace {

std::string_view type_name(attribute_type v) {
    switch (v) {
        case t::string: return "string";
        case t::boolean: return "boolean";
        case t::decimal: return "decimal";
        case t::integer: return "integer";
        case t::date_time: return "dateTime";
        case t::reference: return "reference";
        case t::complex: return "complex";
        case t::binary: return "binary";
    }
    return "string";
}

std::string_view mutability_name(mutability m) {
    switch (m) {
        case mutability::read_only: return "readOnly";
        case mutability::read_write: return "readWrite";
        case mutability::immutable: return "immutable";
        case mutability::write_only: return "writeOnly";
    }
    return "readWrite";
}

std::string_view returned_name(returned r) {
    switch (r) {
        case returned::always: return "always";
        case returned::never: return "never";
        case returned::by_default: return "default";
        case returned::request: return "request";
    }
    return "default";
}

std::string_view uniqueness_name(uniqueness u) {
    switch (u) {
        case uniqueness::none: return "none";
        case uniqueness::server: return "server";
        case uniqueness::global: return "global";
    }
    return "none";
}

json::object attribute_json(const attribute_definition& a) {
    json::object o{{"name", a.name},
                   {"type", type_name(a.type)},
                   {"multiValued", a.multi_valued},
                   {"description", a.description},
                   {"required", a.required},
                   {"mutability", mutability_name(a.mutability)},
                   {"returned", returned_name(a.returned)}};
    // RFC 7643 §7: caseExact and uniqueness apply to string-like types; no nulls anywhere (INTEROP E12).
    if (a.type == t::string || a.type == t::reference || a.type == t::binary) {
        o["caseExact"] = a.case_exact;
        o["uniqueness"] = uniqueness_name(a.uniqueness);
    }
    if (!a.canonical_values.empty()) {
        json::array values;
        for (const auto& v : a.canonical_values) values.push_back(json::string(v));
        o["canonicalValues"] = std::move(values);
    }
    if (!a.reference_types.empty()) {
        json::array types;
        for (const auto& v : a.reference_types) types.push_back(json::string(v));
        o["referenceTypes"] = std::move(types);
    }
    if (!a.sub_attributes.empty()) {
        json::array subs;
        for (const auto& s : a.sub_attributes) subs.push_back(attribute_json(s));
        o["subAttributes"] = std::move(subs);
    }
    return o;
}

}  // namespace

json::object schema_to_json(const schema_definition& s, const std::string& base_url) {
    json::array attributes;
    for (const auto& a : s.attributes) attributes.push_back(attribute_json(a));
    return {{"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:Schema"}},
            {"id", s.id},
            {"name", s.name},
            {"description", s.description},
            {"attributes", std::move(attributes)},
            {"meta", json::object{{"resourceType", "Schema"}, {"location", base_url + "/Schemas/" + std::string(s.id)}}}};
}

const schema_definition* extension_registry::find(std::string_view urn) const {
    for (const auto& e : user_extensions)
        if (e.id.size() == urn.size() &&
            std::equal(e.id.begin(), e.id.end(), urn.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            }))
            return &e;
    return nullptr;
}

bool parse_attribute_type(std::string_view text, attribute_type& out) {
    for (auto v : {t::string, t::boolean, t::decimal, t::integer, t::date_time, t::reference, t::complex, t::binary})
        if (type_name(v) == text) {
            out = v;
            return true;
        }
    return false;
}

bool parse_mutability(std::string_view text, mutability& out) {
    for (auto v : {mutability::read_only, mutability::read_write, mutability::immutable, mutability::write_only})
        if (mutability_name(v) == text) {
            out = v;
            return true;
        }
    return false;
}

bool parse_returned(std::string_view text, returned& out) {
    for (auto v : {returned::always, returned::never, returned::by_default, returned::request})
        if (returned_name(v) == text) {
            out = v;
            return true;
        }
    return false;
}

}  // namespace idgate::scim
