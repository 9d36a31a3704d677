// SPDX-License-Identifier: AGPL-3.0-or-later
#include "mapping/rules.hpp"

#include <algorithm>
#include <array>

#include "schema/model.hpp"

namespace idgate::mapping {
namespace {

constexpr std::array<std::pair<field, std::string_view>, 9> field_names{{{field::user_name, "user_name"},
                                                                        {field::email, "email"},
                                                                        {field::given_name, "given_name"},
                                                                        {field::family_name, "family_name"},
                                                                        {field::display_name, "display_name"},
                                                                        {field::title, "title"},
                                                                        {field::department, "department"},
                                                                        {field::locale, "locale"},
                                                                        {field::external_id, "external_id"}}};

// IdP values are not ours: bound what a regular expression is run on (std::regex recurses per character).
constexpr std::size_t max_matched_length = 1024;

bool regex_matches(const std::regex& pattern, const std::string& value) {
    return value.size() <= max_matched_length && std::regex_match(value, pattern);
}

std::string trimmed(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(first, last - first + 1));
}

// Applies one transform to the values of an attribute (split can make several values of one).
std::vector<std::string> apply(const transform& t, std::vector<std::string> values) {
    std::vector<std::string> out;
    switch (t.type) {
        case transform::kind::lower:
            for (auto& v : values) out.push_back(schema::case_fold(v));
            return out;
        case transform::kind::upper:
            for (auto& v : values) {
                for (auto& ch : v)
                    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
                out.push_back(std::move(v));
            }
            return out;
        case transform::kind::trim:
            for (const auto& v : values) out.push_back(trimmed(v));
            return out;
        case transform::kind::split:
            for (const auto& v : values) {
                std::size_t start = 0;
                while (start <= v.size()) {
                    const auto at = t.argument.empty() ? std::string::npos : v.find(t.argument, start);
                    const auto part = trimmed(std::string_view(v).substr(start, at == std::string::npos ? std::string::npos : at - start));
                    if (!part.empty()) out.push_back(part);
                    if (at == std::string::npos) break;
                    start = at + t.argument.size();
                }
            }
            return out;
        case transform::kind::join: {
            std::string joined;
            for (std::size_t i = 0; i < values.size(); ++i) joined += (i ? t.argument : "") + values[i];
            return {joined};
        }
        case transform::kind::capture:
            for (const auto& v : values) {
                std::smatch m;
                if (v.size() <= max_matched_length && std::regex_search(v, m, t.pattern))
                    out.push_back(m.size() > 1 ? m[1].str() : m[0].str());
            }
            return out;
    }
    return values;
}

truth all_of(const std::vector<condition>& children, const identity& who) {
    bool unknown = false;
    for (const auto& c : children) {
        const auto r = test(c, who);
        if (r == truth::no) return truth::no;
        unknown = unknown || r == truth::unknown;
    }
    return unknown ? truth::unknown : truth::yes;
}

truth any_of(const std::vector<condition>& children, const identity& who) {
    bool unknown = false;
    for (const auto& c : children) {
        const auto r = test(c, who);
        if (r == truth::yes) return truth::yes;
        unknown = unknown || r == truth::unknown;
    }
    return unknown ? truth::unknown : truth::no;
}

truth of(bool b) { return b ? truth::yes : truth::no; }

const std::vector<std::string>* values_of(const identity& who, const std::string& attribute) {
    const auto it = who.attributes.find(attribute);
    return it == who.attributes.end() ? nullptr : &it->second;
}

int privilege(schema::scoped_role_name r) {
    switch (r) {
        case schema::scoped_role_name::owner: return 3;
        case schema::scoped_role_name::editor: return 2;
        case schema::scoped_role_name::viewer: return 1;
    }
    return 0;
}

// Rules' system roles compete by priority (the first of equals wins); scoped roles and permissions add up.
void add_grant(outcome& out, const grant& g, const std::string& from, int& best_priority) {
    if (g.system_role && (!out.system_role || g.priority > best_priority)) {
        out.system_role = g.system_role;
        out.system_role_from = {from};
        best_priority = g.priority;
    }
    for (const auto& s : g.scoped) {
        auto existing = std::find_if(out.scoped.begin(), out.scoped.end(), [&](const auto& e) {
            return e.first.kind == s.kind && schema::case_fold(e.first.scope) == schema::case_fold(s.scope);
        });
        if (existing == out.scoped.end())
            out.scoped.emplace_back(s, provenance{from});
        else if (privilege(s.role) > privilege(existing->first.role))
            *existing = {s, provenance{from}};
    }
    for (const auto& p : g.permissions) {
        const bool held = std::any_of(out.permissions.begin(), out.permissions.end(),
                                      [&](const auto& e) { return e.first == p; });
        if (!held) out.permissions.emplace_back(p, provenance{from});
    }
}

}  // namespace

std::string_view to_string(field f) {
    for (const auto& [value, name] : field_names)
        if (value == f) return name;
    return "user_name";
}

std::optional<field> parse_field(std::string_view text) {
    for (const auto& [value, name] : field_names)
        if (name == text) return value;
    return std::nullopt;
}

truth test(const condition& c, const identity& who) {
    using k = condition::kind;
    switch (c.type) {
        case k::always: return truth::yes;
        case k::all: return all_of(c.children, who);
        case k::any: return any_of(c.children, who);
        case k::negate: {
            const auto r = c.children.empty() ? truth::yes : test(c.children.front(), who);
            return r == truth::unknown ? truth::unknown : of(r == truth::no);
        }
        case k::group_is:
        case k::group_prefix:
        case k::group_matches: {
            if (!who.groups) return truth::unknown;
            for (const auto& g : *who.groups) {
                const auto folded = schema::case_fold(g);
                if (c.type == k::group_matches) {
                    if (regex_matches(c.pattern, g)) return truth::yes;
                    continue;
                }
                for (const auto& v : c.values) {
                    const auto want = schema::case_fold(v);
                    if (c.type == k::group_is ? folded == want : folded.rfind(want, 0) == 0) return truth::yes;
                }
            }
            return truth::no;
        }
        case k::attribute_present: {
            const auto* values = values_of(who, c.attribute);
            return of(values && std::any_of(values->begin(), values->end(), [](const auto& v) { return !v.empty(); }));
        }
        case k::attribute_equals:
        case k::attribute_in: {
            const auto* values = values_of(who, c.attribute);
            if (!values) return truth::no;
            for (const auto& v : *values)
                if (std::find(c.values.begin(), c.values.end(), v) != c.values.end()) return truth::yes;
            return truth::no;
        }
        case k::attribute_matches: {
            const auto* values = values_of(who, c.attribute);
            if (!values) return truth::no;
            return of(std::any_of(values->begin(), values->end(),
                                  [&](const auto& v) { return regex_matches(c.pattern, v); }));
        }
    }
    return truth::no;
}

outcome evaluate(const rule_set& rules, const identity& who) {
    outcome out;
    for (const auto& m : rules.attributes) {
        std::vector<std::string> values;
        for (const auto& source : m.sources) {
            const auto* found = values_of(who, source);
            if (found && std::any_of(found->begin(), found->end(), [](const auto& v) { return !v.empty(); })) {
                values = *found;
                break;
            }
        }
        for (const auto& t : m.transforms) values = apply(t, std::move(values));
        std::string value;
        for (const auto& v : values)
            if (!v.empty()) {
                value = v;
                break;
            }
        if (value.empty() && m.default_value) value = *m.default_value;
        if (value.empty()) {
            if (m.required) out.missing_required.push_back(m.target);
            continue;
        }
        out.fields[m.target] = value;
    }

    int best_priority = 0;
    for (const auto& r : rules.rules) {
        const auto t = test(r.when, who);
        if (t == truth::unknown) {
            out.undetermined_rules.push_back(r.name);
            if (r.deny_login && !out.denied) {
                out.denied = true;
                out.denied_unknown = true;
                out.denied_by = r.name;
            }
            continue;
        }
        if (t == truth::no) continue;
        if (r.deny_login) {
            if (!out.denied || out.denied_unknown) {
                out.denied = true;
                out.denied_unknown = false;
                out.denied_by = r.name;
            }
            continue;
        }
        add_grant(out, r.grants, r.name, best_priority);
    }
    // The defaults: their scoped roles and permissions always; their system role when no rule gave one.
    grant defaults = rules.defaults;
    if (out.system_role) defaults.system_role.reset();
    add_grant(out, defaults, "defaults", best_priority);
    return out;
}

}  // namespace idgate::mapping
