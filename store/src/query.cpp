// SPDX-License-Identifier: AGPL-3.0-or-later
// SCIM filters over users, folded into parameterised SQL (RFC 7644 §3.4.2.2). Every attribute maps to
// a column through the table below; anything else is refused with a reason, never dropped.
#include "query.hpp"

#include <cctype>

#include "core/clock.hpp"

namespace idgate::store {
namespace detail {
std::string escape_like(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\\' || c == '%' || c == '_') out += '\\';
        out += c;
    }
    return out;
}

namespace {

constexpr std::string_view core_user_urn = "urn:ietf:params:scim:schemas:core:2.0:User";
constexpr std::string_view enterprise_user_urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

std::string lower(std::string_view s) {
    std::string out{s};
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

enum class kind {
    folded,        // case-insensitive string with a folded copy in the column (indexed): compare folded
    text,          // case-insensitive string (RFC 7643 caseExact=false): compare LOWER() of both sides
    exact,         // case-exact string (id, externalId)
    boolean,
    date_time,
    number,
};

struct column {
    std::string sql;
    kind type;
    // For a value that may be missing from the row (an extension attribute in JSON): true when present.
    // Empty: the column always has a value ('' when unassigned).
    std::string present = {};
};

// user_emails / user_phone_numbers / group_members, as the target of emails.x / members.x and of
// value filters.
struct multi_valued {
    std::string_view table;
    std::string_view value_column;  // value_folded for emails (searchable case-insensitively), value otherwise
    kind value_kind;
    std::string_view owner_column;  // the column naming the owning row: user_id / group_id
    std::string_view name;          // the SCIM attribute, for messages
    bool has_details = true;        // type / display / primary sub-attributes exist
};

// How one resource type's attributes map to SQL.
struct mapping {
    std::optional<column> (*column_of)(const schema::attribute_path&);
    std::optional<multi_valued> (*multi_valued_of)(const schema::attribute_path&);
    std::string_view alias;       // "u" for users, "g" for groups
    std::string_view filterable;  // listed in the refusal message
};

std::optional<column> user_column(const schema::attribute_path& p) {
    const std::string urn = lower(p.schema_urn);
    const std::string a = lower(p.attribute), sub = lower(p.sub_attribute);
    if (urn == lower(enterprise_user_urn)) {
        if (a == "department" && sub.empty()) return column{"u.department", kind::text};
        return std::nullopt;
    }
    if (!urn.empty() && urn != lower(core_user_urn)) return std::nullopt;
    if (a == "name") {
        static constexpr std::pair<std::string_view, std::string_view> parts[] = {
            {"formatted", "u.formatted_name"},           {"familyname", "u.family_name"},
            {"givenname", "u.given_name"},               {"middlename", "u.middle_name"},
            {"honorificprefix", "u.honorific_prefix"},   {"honorificsuffix", "u.honorific_suffix"}};
        for (const auto& [name, sql] : parts)
            if (sub == name) return column{std::string(sql), kind::text};
        return std::nullopt;
    }
    if (a == "meta") {
        if (sub == "created") return column{"u.created_at", kind::date_time};
        if (sub == "lastmodified") return column{"u.updated_at", kind::date_time};
        return std::nullopt;
    }
    if (!sub.empty()) return std::nullopt;
    struct entry {
        std::string_view name, sql;
        kind type;
    };
    static constexpr entry simple[] = {
        {"id", "u.id", kind::exact},
        {"externalid", "u.external_id", kind::exact},
        {"username", "u.user_name_folded", kind::folded},
        {"displayname", "u.display_name", kind::text},
        {"nickname", "u.nick_name", kind::text},
        {"profileurl", "u.profile_url", kind::exact},
        {"title", "u.title", kind::text},
        {"usertype", "u.user_type", kind::text},
        {"preferredlanguage", "u.preferred_language", kind::text},
        {"locale", "u.locale", kind::text},
        {"timezone", "u.timezone", kind::text},
        {"active", "u.active", kind::boolean},
    };
    for (const auto& e : simple)
        if (a == e.name) return column{std::string(e.sql), e.type};
    return std::nullopt;
}

std::optional<multi_valued> user_multi_valued(const schema::attribute_path& p) {
    const std::string urn = lower(p.schema_urn);
    if (!urn.empty() && urn != lower(core_user_urn)) return std::nullopt;
    const std::string a = lower(p.attribute);
    if (a == "emails") return multi_valued{"user_emails", "value_folded", kind::folded, "user_id", "emails"};
    if (a == "phonenumbers")
        return multi_valued{"user_phone_numbers", "value", kind::text, "user_id", "phoneNumbers"};
    // groups.value: the ids of the groups the user is a member of.
    if (a == "groups") return multi_valued{"group_members", "group_id", kind::exact, "user_id", "groups", false};
    return std::nullopt;
}

constexpr std::string_view core_group_urn = "urn:ietf:params:scim:schemas:core:2.0:Group";

std::optional<column> group_column(const schema::attribute_path& p) {
    const std::string urn = lower(p.schema_urn);
    if (!urn.empty() && urn != lower(core_group_urn)) return std::nullopt;
    const std::string a = lower(p.attribute), sub = lower(p.sub_attribute);
    if (a == "meta") {
        if (sub == "created") return column{"g.created_at", kind::date_time};
        if (sub == "lastmodified") return column{"g.updated_at", kind::date_time};
        return std::nullopt;
    }
    if (!sub.empty()) return std::nullopt;
    if (a == "id") return column{"g.id", kind::exact};
    if (a == "externalid") return column{"g.external_id", kind::exact};
    if (a == "displayname") return column{"g.display_name_folded", kind::folded};
    return std::nullopt;
}

std::optional<multi_valued> group_multi_valued(const schema::attribute_path& p) {
    const std::string urn = lower(p.schema_urn);
    if (!urn.empty() && urn != lower(core_group_urn)) return std::nullopt;
    if (lower(p.attribute) == "members")
        return multi_valued{"group_members", "user_id", kind::exact, "group_id", "members", false};
    return std::nullopt;
}

const mapping user_mapping{user_column, user_multi_valued, "u",
                           "id, externalId, userName, displayName, name.*, nickName, title, userType, locale, "
                           "preferredLanguage, timezone, active, emails, phoneNumbers, groups.value, meta.created, "
                           "meta.lastModified, the enterprise extension's attributes, single-valued attributes of configured "
                           "extensions"};
const mapping group_mapping{group_column, group_multi_valued, "g",
                            "id, externalId, displayName, members.value, meta.created, meta.lastModified"};

std::optional<column> sub_column(std::string_view alias, const multi_valued& mv, std::string_view sub_attribute) {
    const std::string sub = lower(sub_attribute), prefix = std::string(alias) + ".";
    if (sub.empty() || sub == "value") return column{prefix + std::string(mv.value_column), mv.value_kind};
    if (!mv.has_details) return std::nullopt;
    if (sub == "type") return column{prefix + "type", kind::text};
    if (sub == "display") return column{prefix + "display", kind::text};
    if (sub == "primary") return column{prefix + "is_primary", kind::boolean};
    return std::nullopt;
}


class translator {
public:
    translator(std::vector<std::string>& params, const mapping& m,
               const std::vector<extension_attribute>* extensions = nullptr, bool postgres = false)
        : params_(params), m_(m), extensions_(extensions), postgres_(postgres) {}

    // SQL for `f` against the resource's table; throws query_error with a reason for the client.
    std::string user_filter(const schema::filter& f) {
        return std::visit(
            [&](const auto& n) -> std::string {
                using T = std::decay_t<decltype(n)>;
                if constexpr (std::is_same_v<T, schema::logical>) {
                    return junction(n, [&](const schema::filter& operand) { return user_filter(operand); });
                } else if constexpr (std::is_same_v<T, schema::negation>) {
                    return "(NOT " + user_filter(*n.inner) + ")";
                } else if constexpr (std::is_same_v<T, schema::value_path>) {
                    const auto mv = m_.multi_valued_of(n.path);
                    if (!mv) throw query_error{"'" + n.path.to_string() + "' cannot be filtered with [...]"};
                    return exists(*mv, element_filter(*mv, *n.inner));
                } else {
                    return user_comparison(n);
                }
            },
            f.node);
    }

private:
    // `a or b or c` parses as ((a or b) or c); written flat, as (a OR b OR c), because SQLite's parser
    // overflows its stack at about a hundred nested parentheses, which a long list of alternatives
    // from an IdP would otherwise reach.
    template <typename Translate>
    static std::string junction(const schema::logical& n, const Translate& translate) {
        std::vector<const schema::filter*> operands;
        const auto collect = [&](const auto& self, const schema::filter& f) -> void {
            const auto* same = std::get_if<schema::logical>(&f.node);
            if (same && same->op == n.op) {
                self(self, *same->left);
                self(self, *same->right);
            } else {
                operands.push_back(&f);
            }
        };
        collect(collect, *n.left);
        collect(collect, *n.right);
        std::string out = "(";
        for (std::size_t i = 0; i < operands.size(); ++i) {
            if (i) out += n.op == schema::logical::kind::and_ ? " AND " : " OR ";
            out += translate(*operands[i]);
        }
        return out + ")";
    }

    // The organisation is repeated inside: the value indexes lead with organization_id (user_emails_value
    // is (organization_id, value_folded)), and without it an `emails.value eq` filter scanned every
    // email of the database (66 ms at 1,000,000 users, bench/run.sh PARTS=scale) instead of one probe.
    std::string exists(const multi_valued& mv, const std::string& condition) {
        const std::string owner{m_.alias};
        return "EXISTS (SELECT 1 FROM " + std::string(mv.table) + " e WHERE e." + std::string(mv.owner_column) + " = " +
               owner + ".id AND e.organization_id = " + owner + ".organization_id AND " + condition + ")";
    }

    // Inside emails[...]: attribute names are sub-attributes of the multi-valued attribute.
    std::string element_filter(const multi_valued& mv, const schema::filter& f) {
        return std::visit(
            [&](const auto& n) -> std::string {
                using T = std::decay_t<decltype(n)>;
                if constexpr (std::is_same_v<T, schema::logical>) {
                    return junction(n, [&](const schema::filter& operand) { return element_filter(mv, operand); });
                } else if constexpr (std::is_same_v<T, schema::negation>) {
                    return "(NOT " + element_filter(mv, *n.inner) + ")";
                } else if constexpr (std::is_same_v<T, schema::value_path>) {
                    throw query_error{"value filters cannot nest"};
                } else {
                    if (!n.path.schema_urn.empty() || !n.path.sub_attribute.empty())
                        throw query_error{"'" + n.path.to_string() + "' is not a sub-attribute of " +
                                          std::string(mv.name)};
                    const auto c = sub_column("e", mv, n.path.attribute);
                    if (!c) throw query_error{"unknown sub-attribute '" + n.path.attribute + "'"};
                    return compare(*c, n, n.path.to_string());
                }
            },
            f.node);
    }

    // An attribute in the user's extensions JSON, read with the dialect's JSON functions; the keys are
    // bound, never spliced into the SQL.
    std::optional<column> extension_column(const schema::attribute_path& p) {
        if (!extensions_ || p.schema_urn.empty()) return std::nullopt;
        for (const auto& e : *extensions_) {
            if (lower(e.schema_urn) != lower(p.schema_urn) || lower(e.name) != lower(p.attribute) ||
                lower(e.sub_attribute) != lower(p.sub_attribute))
                continue;
            using vt = extension_attribute::value_type;
            std::string node, text;  // the JSON value, and its text
            if (postgres_) {
                node = "(u.extensions::jsonb -> " + bind(e.schema_urn) + " -> " + bind(e.name);
                if (!e.sub_attribute.empty()) node += " -> " + bind(e.sub_attribute);
                node += ")";
                text = "(" + node + " #>> '{}')";
            } else {
                const std::string path = "$.\"" + e.schema_urn + "\".\"" + e.name + "\"" +
                                         (e.sub_attribute.empty() ? "" : ".\"" + e.sub_attribute + "\"");
                node = text = "json_extract(u.extensions, " + bind(path) + ")";
            }
            const std::string present = "(" + node + " IS NOT NULL)";
            switch (e.type) {
                case vt::boolean:
                    return column{postgres_ ? "(CASE WHEN " + node + " = 'true'::jsonb THEN 1 ELSE 0 END)"
                                            : "(CASE WHEN " + node + " = 1 THEN 1 ELSE 0 END)",
                                  kind::boolean, present};
                case vt::integer:
                case vt::decimal:
                    return column{postgres_ ? "(" + text + ")::numeric" : text, kind::number, present};
                case vt::date_time: return column{"COALESCE(" + text + ", '')", kind::date_time, present};
                case vt::case_exact_string: return column{"COALESCE(" + text + ", '')", kind::exact, present};
                case vt::string: return column{"COALESCE(" + text + ", '')", kind::text, present};
            }
        }
        return std::nullopt;
    }

    std::string user_comparison(const schema::comparison& c) {
        if (const auto col = m_.column_of(c.path)) return compare(*col, c, c.path.to_string());
        if (const auto col = extension_column(c.path)) return compare(*col, c, c.path.to_string());
        if (const auto mv = m_.multi_valued_of(c.path)) {
            const auto sub = sub_column("e", *mv, c.path.sub_attribute);
            if (!sub) throw query_error{"unknown attribute '" + c.path.to_string() + "'"};
            if (c.op == schema::compare_op::pr && c.path.sub_attribute.empty()) return exists(*mv, "1 = 1");
            return exists(*mv, compare(*sub, c, c.path.to_string()));
        }
        throw query_error{"the attribute '" + c.path.to_string() + "' cannot be filtered (filterable: " +
                          std::string(m_.filterable) + ")"};
    }

    std::string bind(std::string value) {
        params_.push_back(std::move(value));
        return ":p" + std::to_string(params_.size() - 1);
    }

    std::string compare(const column& col, const schema::comparison& c, const std::string& name) {
        using op = schema::compare_op;
        using vk = schema::filter_value::kind;
        const std::string sql{col.sql};
        const auto absent = [&] {
            if (!col.present.empty()) return "(NOT " + col.present + ")";
            switch (col.type) {
                case kind::boolean: return std::string("1 = 0");  // a boolean is always present here
                default: return "(" + sql + " = '')";
            }
        };
        const auto present = [&] {
            if (!col.present.empty()) return col.present;
            return col.type == kind::boolean ? std::string("1 = 1") : "(" + sql + " <> '')";
        };
        if (c.op == op::pr) return present();
        if (c.value.type == vk::null) {
            // "eq null" means "has no value" (RFC 7644 §3.4.2.2 treats null as unassigned).
            if (c.op == op::eq) return absent();
            if (c.op == op::ne) return present();
            throw query_error{"null can only be compared with eq or ne"};
        }
        switch (col.type) {
            case kind::number: {
                if (c.value.type != vk::number)
                    throw query_error{"'" + name + "' is a number: compare it with an unquoted number"};
                if (c.op == op::co || c.op == op::sw || c.op == op::ew)
                    throw query_error{"'" + name + "' is a number: co, sw and ew do not apply"};
                const std::string literal =
                    postgres_ ? "CAST(" + bind(c.value.text) + " AS numeric)" : "CAST(" + bind(c.value.text) + " AS REAL)";
                // A missing value is not equal to anything: ne matches it, the others do not.
                if (c.op == op::ne) return "(NOT " + col.present + " OR " + sql + " <> " + literal + ")";
                return "(" + col.present + " AND " + sql + " " + relational(c.op) + " " + literal + ")";
            }
            case kind::boolean: {
                if (c.value.type != vk::boolean)
                    throw query_error{"'" + name + "' is a boolean: compare it with true or false"};
                if (c.op != op::eq && c.op != op::ne)
                    throw query_error{"'" + name + "' is a boolean: only eq, ne and pr apply"};
                const std::string value = c.value.boolean ? "1" : "0";
                // A missing value (an extension attribute) is neither true nor false: ne matches it.
                if (!col.present.empty())
                    return c.op == op::eq ? "(" + col.present + " AND " + sql + " = " + value + ")"
                                          : "(NOT " + col.present + " OR " + sql + " <> " + value + ")";
                return "(" + sql + (c.op == op::eq ? " = " : " <> ") + value + ")";
            }
            case kind::date_time: {
                if (c.value.type != vk::string)
                    throw query_error{"'" + name + "' is a dateTime: compare it with a quoted xsd:dateTime"};
                const auto t = core::parse_timestamp(c.value.text);
                if (!t)
                    throw query_error{"'" + c.value.text + "' is not a dateTime in UTC (e.g. 2026-01-31T12:00:00Z)"};
                if (c.op == op::co || c.op == op::sw || c.op == op::ew)
                    throw query_error{"'" + name + "' is a dateTime: co, sw and ew do not apply"};
                const std::string comparison = "(" + sql + " " + relational(c.op) + " " + bind(core::format_timestamp(*t)) + ")";
                if (c.op == op::ne) return comparison;
                return "(" + present() + " AND " + comparison + ")";
            }
            default: break;
        }
        if (c.value.type != vk::string)
            throw query_error{"'" + name + "' is a string: compare it with a quoted value"};
        // Strings: fold both sides unless the attribute is case-exact (RFC 7643 §2.2 caseExact).
        std::string lhs = sql, value = c.value.text;
        const auto rhs_of = [&](const std::string& placeholder) {
            return col.type == kind::text ? "LOWER(" + placeholder + ")" : placeholder;
        };
        if (col.type == kind::folded) value = schema::case_fold(value);
        if (col.type == kind::text) lhs = "LOWER(" + sql + ")";
        // An unassigned value (stored as '') matches no comparison but ne: "title lt \"m\"" is not every user
        // without a title (RFC 7644 §3.4.2.2 compares assigned values).
        const auto assigned = [&](const std::string& comparison) { return "(" + present() + " AND " + comparison + ")"; };
        switch (c.op) {
            case op::co: return assigned("(" + lhs + " LIKE " + rhs_of(bind("%" + escape_like(value) + "%")) + " ESCAPE '\\')");
            case op::sw: return assigned("(" + lhs + " LIKE " + rhs_of(bind(escape_like(value) + "%")) + " ESCAPE '\\')");
            case op::ew: return assigned("(" + lhs + " LIKE " + rhs_of(bind("%" + escape_like(value))) + " ESCAPE '\\')");
            case op::eq:
            case op::ne: return "(" + lhs + " " + relational(c.op) + " " + rhs_of(bind(value)) + ")";
            default: return assigned("(" + lhs + " " + relational(c.op) + " " + rhs_of(bind(value)) + ")");
        }
    }

    static std::string relational(schema::compare_op o) {
        switch (o) {
            case schema::compare_op::eq: return "=";
            case schema::compare_op::ne: return "<>";
            case schema::compare_op::gt: return ">";
            case schema::compare_op::ge: return ">=";
            case schema::compare_op::lt: return "<";
            case schema::compare_op::le: return "<=";
            default: return "=";
        }
    }

    std::vector<std::string>& params_;
    const mapping& m_;
    const std::vector<extension_attribute>* extensions_;
    bool postgres_;
};

}  // namespace

namespace {

resource_sql translate_with(const mapping& m, const std::string& organization_filter, const schema::filter_ptr& filter,
                            const std::string& sort_by, bool descending,
                            const std::vector<extension_attribute>* extensions = nullptr, bool postgres = false) {
    resource_sql out;
    translator t(out.params, m, extensions, postgres);
    const std::string a{m.alias};
    out.where = organization_filter;
    if (filter) out.where += " AND " + t.user_filter(*filter);
    out.count_where = out.where;
    out.count_params = out.params.size();
    // Sorting (RFC 7644 §3.4.2.3) on a mapped single-valued attribute; ties broken by id so that pages
    // never overlap or skip.
    const std::string direction = descending ? " DESC" : " ASC";
    if (sort_by.empty()) {
        out.order_by = a + ".created_at" + direction + ", " + a + ".id" + direction;
        return out;
    }
    schema::attribute_path p;
    std::string_view path = sort_by;
    if (const auto colon = sort_by.rfind(':'); colon != std::string::npos && lower(sort_by).rfind("urn:", 0) == 0) {
        p.schema_urn = sort_by.substr(0, colon);
        path = std::string_view(sort_by).substr(colon + 1);
    }
    const auto dot = path.find('.');
    p.attribute = std::string(path.substr(0, dot));
    if (dot != std::string_view::npos) p.sub_attribute = std::string(path.substr(dot + 1));
    const auto col = m.column_of(p);
    if (!col || col->type == kind::boolean) throw query_error{"cannot sort by '" + sort_by + "'"};
    const std::string expr = col->type == kind::text ? "LOWER(" + col->sql + ")" : col->sql;
    out.order_by = expr + direction + ", " + a + ".id" + direction;
    return out;
}

}  // namespace

resource_sql translate(const user_query& q, bool postgres) {
    if (q.after && (!q.sort_by.empty() || q.descending))
        throw query_error{"cursor paging follows creation order: sortBy and sortOrder cannot be combined with a cursor"};
    // SCIM reads the directory identity providers provisioned: local-only accounts are not in it (migration
    // 9). They are few, so they are excluded by id (users_local_only, hashed once per statement): the
    // organisation's count and pages stay index-only scans of users_created, which a test of the row's own
    // local_only column would turn into a heap visit per user (twice as slow at 1,000,000 users).
    auto out = translate_with(user_mapping,
                              "u.organization_id = :org AND u.id NOT IN (SELECT l.id FROM users l WHERE "
                              "l.organization_id = :org AND l.local_only = 1)",
                              q.filter, q.sort_by, q.descending, &q.extension_attributes, postgres);
    if (q.after) {
        // Keyset condition on the (organization_id, created_at, id) index: rows after the position.
        const auto name = [&out] { return ":p" + std::to_string(out.params.size()); };
        const std::string at1 = name();
        out.params.push_back(core::format_timestamp(q.after->created));
        const std::string at2 = name();
        out.params.push_back(core::format_timestamp(q.after->created));
        const std::string id = name();
        out.params.push_back(q.after->id);
        out.where += " AND (u.created_at > " + at1 + " OR (u.created_at = " + at2 + " AND u.id > " + id + "))";
    }
    return out;
}

std::optional<std::string> sole_user_name(const user_query& q) {
    if (!q.filter || q.after) return std::nullopt;
    const auto* c = std::get_if<schema::comparison>(&q.filter->node);
    if (!c || c->op != schema::compare_op::eq || c->value.type != schema::filter_value::kind::string)
        return std::nullopt;
    const auto col = user_column(c->path);
    if (!col || col->sql != "u.user_name_folded") return std::nullopt;
    return schema::case_fold(c->value.text);
}

resource_sql translate(const group_query& q) {
    return translate_with(group_mapping, "g.organization_id = :org", q.filter, q.sort_by, q.descending);
}

}  // namespace detail

namespace {
template <typename Query>
std::optional<std::string> validate_query(const Query& q) {
    try {
        detail::translate(q);
        if (q.offset < 0 || q.limit < 0) return "paging values must not be negative";
        return std::nullopt;
    } catch (const detail::query_error& e) {
        return e.reason;
    }
}
}  // namespace

std::optional<std::string> validate(const user_query& q) { return validate_query(q); }
std::optional<std::string> validate(const group_query& q) { return validate_query(q); }

std::optional<user_key> single_user_key(const user_query& q) {
    auto name = detail::sole_user_name(q);
    if (!name) return std::nullopt;
    return user_key{user_key::kind::user_name, q.organization_id, std::move(*name)};
}

result<user_page> page_of_single_user(const user_query& q, result<schema::user>&& found) {
    user_page page;
    if (!found) {
        if (found.error() != errc::not_found) return found.error();
        return page;
    }
    page.total = 1;
    if (q.offset == 0 && q.limit > 0) page.users.push_back(std::move(*found));
    return page;
}

}  // namespace idgate::store
