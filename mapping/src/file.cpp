// SPDX-License-Identifier: AGPL-3.0-or-later
#include "mapping/file.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/yaml_reader.hpp"
#include "schema/model.hpp"

namespace idgate::mapping {
namespace {

using core::yaml::reader;

constexpr const char* field_list = "user_name, email, given_name, family_name, display_name, title, department, "
                                   "locale, external_id";

std::vector<std::string> strings(const reader& r, const YAML::Node& node, const std::string& path) {
    std::vector<std::string> out;
    if (node.IsScalar()) {
        out.push_back(r.string(node, path));
        return out;
    }
    if (!node.IsSequence()) r.fail(node, path, "expected a string or a list of strings");
    for (std::size_t i = 0; i < node.size(); ++i) out.push_back(r.string(node[i], path + "[" + std::to_string(i) + "]"));
    return out;
}

std::regex compile(const reader& r, const YAML::Node& node, const std::string& path, const std::string& text) {
    try {
        return std::regex(text, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        r.fail(node, path, "not a valid regular expression (ECMAScript syntax): " + std::string(e.what()));
    }
}

field field_of(const reader& r, const YAML::Node& node, const std::string& path, const std::string& name) {
    const auto f = parse_field(name);
    if (!f) r.fail(node, path, "unknown field '" + name + "' (expected one of: " + field_list + ")");
    return *f;
}

transform parse_transform(const reader& r, const YAML::Node& node, const std::string& path) {
    transform t;
    if (node.IsScalar()) {
        const auto name = r.string(node, path);
        if (name == "lower") t.type = transform::kind::lower;
        else if (name == "upper") t.type = transform::kind::upper;
        else if (name == "trim") t.type = transform::kind::trim;
        else
            r.fail(node, path, "unknown transform '" + name +
                                   "' (expected lower, upper, trim, or {split: SEP}, {join: SEP}, {capture: REGEX})");
        return t;
    }
    if (!node.IsMap() || node.size() != 1) r.fail(node, path, "expected one of lower, upper, trim, {split: SEP}, {join: SEP}, {capture: REGEX}");
    r.map(node, path, {"split", "join", "capture"}, [&](const std::string& key, const YAML::Node& v, const std::string& p) {
        t.argument = r.string(v, p);
        if (key == "split") t.type = transform::kind::split;
        else if (key == "join") t.type = transform::kind::join;
        else {
            t.type = transform::kind::capture;
            t.pattern = compile(r, v, p, t.argument);
        }
        if (t.argument.empty()) r.fail(v, p, "must not be empty");
    });
    return t;
}

attribute_mapping parse_attribute(const reader& r, const YAML::Node& node, const std::string& path, field target) {
    attribute_mapping m;
    m.target = target;
    if (node.IsScalar() || node.IsSequence()) {  // shorthand: the source name(s)
        m.sources = strings(r, node, path);
        return m;
    }
    r.map(node, path, {"from", "transform", "default", "required"},
          [&](const std::string& key, const YAML::Node& v, const std::string& p) {
              if (key == "from") m.sources = strings(r, v, p);
              else if (key == "transform") {
                  if (!v.IsSequence()) r.fail(v, p, "expected a list of transforms, applied in order");
                  for (std::size_t i = 0; i < v.size(); ++i)
                      m.transforms.push_back(parse_transform(r, v[i], p + "[" + std::to_string(i) + "]"));
              } else if (key == "default") m.default_value = r.string(v, p);
              else m.required = r.boolean(v, p);
          });
    if (m.sources.empty() && !m.default_value) r.fail(node, path, "needs 'from' (the IdP attribute names) or 'default'");
    return m;
}

condition parse_condition(const reader& r, const YAML::Node& node, const std::string& path) {
    condition c;
    if (!node.IsMap() || node.size() != 1)
        r.fail(node, path, "a condition is a mapping with one key: all, any, not, group, group_prefix, group_matches, "
                           "attribute, always");
    r.map(node, path, {"all", "any", "not", "group", "group_prefix", "group_matches", "attribute", "always"},
          [&](const std::string& key, const YAML::Node& v, const std::string& p) {
              using k = condition::kind;
              if (key == "all" || key == "any") {
                  c.type = key == "all" ? k::all : k::any;
                  if (!v.IsSequence() || v.size() == 0) r.fail(v, p, "expected a non-empty list of conditions");
                  for (std::size_t i = 0; i < v.size(); ++i)
                      c.children.push_back(parse_condition(r, v[i], p + "[" + std::to_string(i) + "]"));
              } else if (key == "not") {
                  c.type = k::negate;
                  c.children.push_back(parse_condition(r, v, p));
              } else if (key == "group" || key == "group_prefix") {
                  c.type = key == "group" ? k::group_is : k::group_prefix;
                  c.values = strings(r, v, p);
              } else if (key == "group_matches") {
                  c.type = k::group_matches;
                  c.pattern_text = r.string(v, p);
                  c.pattern = compile(r, v, p, c.pattern_text);
              } else if (key == "always") {
                  if (!r.boolean(v, p)) r.fail(v, p, "'always' can only be true");
                  c.type = k::always;
              } else {
                  bool has_test = false;
                  r.map(v, p, {"name", "equals", "in", "matches", "present"},
                        [&](const std::string& ak, const YAML::Node& av, const std::string& ap) {
                            if (ak == "name") {
                                c.attribute = r.string(av, ap);
                                return;
                            }
                            if (has_test) r.fail(av, ap, "one test per attribute condition (equals, in, matches or present)");
                            has_test = true;
                            if (ak == "equals") {
                                c.type = k::attribute_equals;
                                c.values = {r.string(av, ap)};
                            } else if (ak == "in") {
                                c.type = k::attribute_in;
                                c.values = strings(r, av, ap);
                            } else if (ak == "matches") {
                                c.type = k::attribute_matches;
                                c.pattern_text = r.string(av, ap);
                                c.pattern = compile(r, av, ap, c.pattern_text);
                            } else {
                                if (!r.boolean(av, ap)) r.fail(av, ap, "'present' can only be true (use not: for absence)");
                                c.type = k::attribute_present;
                            }
                        });
                  if (c.attribute.empty()) r.fail(v, p, "'name' (the IdP attribute or claim) is required");
                  if (!has_test) r.fail(v, p, "needs one test: equals, in, matches or present");
              }
          });
    return c;
}

bool valid_permission(const std::string& name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == ':' || ch == '-';
    });
}

grant parse_grant(const reader& r, const YAML::Node& node, const std::string& path) {
    grant g;
    r.map(node, path, {"system_role", "priority", "scoped", "permissions"},
          [&](const std::string& key, const YAML::Node& v, const std::string& p) {
              if (key == "system_role") {
                  const auto name = r.string(v, p);
                  g.system_role = schema::parse_system_role(name);
                  if (!g.system_role)
                      r.fail(v, p, "unknown system role '" + name + "' (expected guest, member, manager, admin or super_admin)");
              } else if (key == "priority") {
                  g.priority = static_cast<int>(r.integer(v, p, -1000, 1000));
              } else if (key == "permissions") {
                  g.permissions = strings(r, v, p);
                  for (const auto& perm : g.permissions)
                      if (!valid_permission(perm))
                          r.fail(v, p, "'" + perm + "' is not a permission name (a-z, 0-9, _ . : -)");
              } else {
                  if (!v.IsSequence()) r.fail(v, p, "expected a list such as [{workspace: Marketing, role: editor}]");
                  for (std::size_t i = 0; i < v.size(); ++i) {
                      const auto ip = p + "[" + std::to_string(i) + "]";
                      scoped_grant s;
                      bool has_scope = false, has_role = false;
                      r.map(v[i], ip, {"workspace", "project", "role"},
                            [&](const std::string& sk, const YAML::Node& sv, const std::string& sp) {
                                if (sk == "role") {
                                    const auto name = r.string(sv, sp);
                                    const auto role = schema::parse_scoped_role_name(name);
                                    if (!role) r.fail(sv, sp, "unknown scoped role '" + name + "' (expected owner, editor or viewer)");
                                    s.role = *role;
                                    has_role = true;
                                    return;
                                }
                                if (has_scope) r.fail(sv, sp, "one workspace or project per entry");
                                s.kind = sk == "workspace" ? schema::scope_kind::workspace : schema::scope_kind::project;
                                s.scope = r.string(sv, sp);
                                has_scope = true;
                            });
                      if (!has_scope || !has_role) r.fail(v[i], ip, "needs a workspace or project, and a role");
                      g.scoped.push_back(std::move(s));
                  }
              }
          });
    return g;
}

connection_policy::deprovision deprovision_of(const reader& r, const YAML::Node& v, const std::string& p) {
    const auto text = r.string(v, p);
    if (text == "disable") return connection_policy::deprovision::disable;
    if (text == "delete") return connection_policy::deprovision::remove;
    r.fail(v, p, "expected disable or delete");
}

}  // namespace

std::string_view to_string(connection_policy::conflict_policy p) {
    switch (p) {
        case connection_policy::conflict_policy::link_verified_email: return "link_verified_email";
        case connection_policy::conflict_policy::queue: return "queue";
        case connection_policy::conflict_policy::reject: break;
    }
    return "reject";
}

mapping_file parse_mapping(const std::string& yaml_text, const std::string& source) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::ParserException& e) {
        throw file_error(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                         ": not valid YAML: " + e.msg);
    }
    mapping_file f;
    f.source = source;
    const reader r(source);
    try {
        if (!root.IsMap())
            r.fail(root, "", "a mapping file is a mapping (organization, connection, attributes, defaults, rules...)");
        r.map(root, "",
              {"organization", "connection", "attributes", "defaults", "rules", "locks", "deprovisioning",
               "identity_conflicts"},
              [&](const std::string& key, const YAML::Node& v, const std::string& p) {
                  if (key == "organization") {
                      f.organization = r.string(v, p);
                      if (!schema::is_valid_slug(f.organization))
                          r.fail(v, p, "an organization is named by its slug: 1-63 characters of a-z, 0-9 and '-'");
                  } else if (key == "connection") {
                      f.connection = r.string(v, p);
                      if (!schema::is_valid_slug(f.connection))
                          r.fail(v, p, "a connection name is 1-63 characters of a-z, 0-9 and '-'");
                  } else if (key == "attributes") {
                      if (!v.IsMap()) r.fail(v, p, std::string("expected a mapping of local fields (") + field_list + ") to IdP attributes");
                      for (const auto& entry : v) {
                          const auto name = entry.first.as<std::string>();
                          const auto target = field_of(r, entry.first, p + "." + name, name);
                          f.rules.attributes.push_back(parse_attribute(r, entry.second, p + "." + name, target));
                      }
                  } else if (key == "defaults") {
                      f.rules.defaults = parse_grant(r, v, p);
                  } else if (key == "rules") {
                      if (!v.IsSequence()) r.fail(v, p, "expected a list of rules, evaluated in order");
                      for (std::size_t i = 0; i < v.size(); ++i) {
                          const auto ip = p + "[" + std::to_string(i) + "]";
                          rule rl;
                          bool has_when = false, has_effect = false;
                          r.map(v[i], ip, {"name", "when", "grant", "deny_login"},
                                [&](const std::string& rk, const YAML::Node& rv, const std::string& rp) {
                                    if (rk == "name") rl.name = r.string(rv, rp);
                                    else if (rk == "when") {
                                        rl.when = parse_condition(r, rv, rp);
                                        has_when = true;
                                    } else if (rk == "grant") {
                                        rl.grants = parse_grant(r, rv, rp);
                                        has_effect = true;
                                    } else {
                                        rl.deny_login = r.boolean(rv, rp);
                                        has_effect = has_effect || rl.deny_login;
                                    }
                                });
                          if (rl.name.empty()) r.fail(v[i], ip, "every rule needs a 'name' (audit records and `mapping explain` cite it)");
                          for (const auto& other : f.rules.rules)
                              if (other.name == rl.name) r.fail(v[i], ip, "a rule named '" + rl.name + "' already exists");
                          if (!has_when) r.fail(v[i], ip, "needs 'when' (use {always: true} for every user)");
                          if (!has_effect) r.fail(v[i], ip, "needs 'grant' or 'deny_login: true'");
                          f.rules.rules.push_back(std::move(rl));
                      }
                  } else if (key == "locks") {
                      r.map(v, p, {"fields", "authorization", "local_actions"},
                            [&](const std::string& lk, const YAML::Node& lv, const std::string& lp) {
                                if (lk == "fields") {
                                    for (const auto& name : strings(r, lv, lp))
                                        f.policy.locked_fields.push_back(field_of(r, lv, lp, name));
                                } else if (lk == "authorization") {
                                    const auto mode = r.string(lv, lp);
                                    if (mode != "external" && mode != "local") r.fail(lv, lp, "expected external or local");
                                    f.policy.authorization_external = mode == "external";
                                } else {
                                    r.map(lv, lp, {"create", "invite", "delete", "password", "mfa"},
                                          [&](const std::string& ak, const YAML::Node& av, const std::string& ap) {
                                              const bool allowed = r.boolean(av, ap);
                                              if (ak == "create") f.policy.allow_local_create = allowed;
                                              else if (ak == "invite") f.policy.allow_local_invite = allowed;
                                              else if (ak == "delete") f.policy.allow_local_delete = allowed;
                                              else if (ak == "password") f.policy.allow_local_password = allowed;
                                              else f.policy.allow_local_mfa = allowed;
                                          });
                                }
                            });
                  } else if (key == "identity_conflicts") {
                      const auto policy = r.string(v, p);
                      if (policy == "reject") f.policy.on_conflict = connection_policy::conflict_policy::reject;
                      else if (policy == "link_verified_email")
                          f.policy.on_conflict = connection_policy::conflict_policy::link_verified_email;
                      else if (policy == "queue") f.policy.on_conflict = connection_policy::conflict_policy::queue;
                      else r.fail(v, p, "expected reject, link_verified_email or queue");
                  } else {
                      r.map(v, p, {"on_deactivate", "on_delete", "without_grants"},
                            [&](const std::string& dk, const YAML::Node& dv, const std::string& dp) {
                                if (dk == "on_deactivate") f.policy.on_deactivate = deprovision_of(r, dv, dp);
                                else if (dk == "on_delete") f.policy.on_delete = deprovision_of(r, dv, dp);
                                else {
                                    const auto what = r.string(dv, dp);
                                    if (what != "keep" && what != "disable") r.fail(dv, dp, "expected keep or disable");
                                    f.policy.disable_without_grants = what == "disable";
                                }
                            });
                  }
              });
        if (f.organization.empty())
            r.fail(root, "", "'organization' is required: the slug of the organization whose connection this is");
        if (f.connection.empty()) r.fail(root, "", "'connection' is required: the IdP connection these rules belong to");
    } catch (const core::yaml::error& e) {
        throw file_error(e.what());
    }
    return f;
}

mapping_file load_mapping(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw file_error(path + ": cannot read the mapping file");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_mapping(text.str(), path);
}

std::vector<mapping_file> load_mapping_directory(const std::string& directory) {
    std::error_code ec;
    if (!std::filesystem::is_directory(directory, ec)) throw file_error(directory + ": not a directory");
    std::vector<std::string> paths;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
        const auto ext = entry.path().extension().string();
        if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) paths.push_back(entry.path().string());
    }
    std::sort(paths.begin(), paths.end());  // the same order on every machine
    std::vector<mapping_file> files;
    for (const auto& p : paths) {
        auto f = load_mapping(p);
        for (const auto& other : files)
            if (other.organization == f.organization && other.connection == f.connection)
                throw file_error(p + ": connection '" + f.organization + "/" + f.connection + "' is already mapped by " +
                                 other.source);
        files.push_back(std::move(f));
    }
    return files;
}

}  // namespace idgate::mapping
