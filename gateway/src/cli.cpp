// SPDX-License-Identifier: AGPL-3.0-or-later
#include "gateway/cli.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <sstream>

#include "accounts/mfa_keys.hpp"
#include "core/crypto.hpp"
#include "mapping/explain.hpp"
#include "mapping/file.hpp"
#include "core/log.hpp"
#include "gateway/config.hpp"
#include "gateway/server.hpp"
#include "store/user_reader.hpp"
#include "idle_memory.hpp"
#include "routes.hpp"
#include "saml/response.hpp"
#include "provisioning/reconciler.hpp"
#include "store/provisioning.hpp"
#include "tokens.hpp"

namespace idgate::gateway {
namespace {

constexpr const char* usage = R"(usage:
  idgate serve [--config FILE]       run the gateway (migrates the database first)
  idgate check-config FILE           validate a configuration file and exit
  idgate migrate [--config FILE]     apply database migrations and exit
  idgate admin-token create [--name NAME] [--config FILE]
                                     create an instance admin token and print it once
  idgate token create --org SLUG --name NAME [--connection NAME] [--expires-in-days N] [--config FILE]
  idgate token list --org SLUG [--config FILE]
  idgate token revoke --org SLUG --id ID [--config FILE]
                                     manage an organization's SCIM bearer tokens; a token of an IdP
                                     --connection pushes through that connection's mapping rules
  idgate mapping check [DIR] [--config FILE]
                                     validate every mapping file of DIR (or of mapping.directory)
  idgate mapping plan [--dir DIR] [--organization SLUG] [--connection NAME] [--config FILE]
                                     show what the files of DIR would change for the users already bound
                                     to their connections (roles and permissions added and removed)
  idgate mapping apply [--dir DIR] [--organization SLUG] [--connection NAME] [--config FILE]
                                     re-evaluate those users now, with progress; each change is audited,
                                     and an interrupted apply resumes (the queue is in the database)
  idgate mapping explain --connection NAME --input FILE [--organization SLUG] [--dir DIR] [--config FILE]
                                     evaluate a sample (SCIM body, SAML attributes or OIDC claims, as
                                     JSON) with a connection's rules; print the result and its rules
  idgate version                     print the version

Without --config, built-in defaults apply: SQLite in ./idgate.db, listening on 127.0.0.1:8080.
)";

std::unique_ptr<store::store> open_store(const config& c, const core::clock& clock) {
    if (c.storage.type == storage_config::backend::postgres)
        return store::open_postgres(c.storage.postgres, clock, c.storage.pool);
    if (auto dir = std::filesystem::path(c.storage.sqlite.path).parent_path(); !dir.empty())
        std::filesystem::create_directories(dir);
    return store::open_sqlite(c.storage.sqlite, clock, c.storage.pool);
}

// The key ring that seals TOTP keys at rest (config `encryption`): the configured keys, or the key file's,
// one per line. On SQLite the file defaults to idgate.key beside the database and is made on first start;
// with PostgreSQL it must exist already, because every node must hold the same keys.
core::secret_box load_key_ring(const config& c) {
    if (!c.encryption.keys.empty()) return core::secret_box(c.encryption.keys);
    const bool sqlite = c.storage.type == storage_config::backend::sqlite;
    std::filesystem::path file = c.encryption.key_file;
    if (file.empty()) file = std::filesystem::path(c.storage.sqlite.path).parent_path() / "idgate.key";
    if (!std::filesystem::exists(file)) {
        if (!sqlite) throw std::runtime_error("encryption.key_file " + file.string() + " does not exist");
        if (!file.parent_path().empty()) std::filesystem::create_directories(file.parent_path());
        // O_EXCL: of two processes starting at once, one makes the key and the other reads it.
        const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd >= 0) {
            const std::string line = core::secret_box::new_key_text() + "\n";
            const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                                 ::fsync(fd) == 0;
            ::close(fd);
            if (!written) throw std::runtime_error("cannot write the new encryption key file " + file.string());
            core::log::warn("created an encryption key file: back it up with the database; without it, enrolled "
                            "authenticators cannot be checked",
                            {{"file", file.string()}});
        } else if (errno != EEXIST) {
            throw std::runtime_error("cannot create the encryption key file " + file.string() + ": " +
                                     std::strerror(errno));
        }
    }
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read the encryption key file " + file.string());
    std::vector<std::string> keys;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        const auto begin = line.find_first_not_of(" \t\r");
        if (begin == std::string::npos || line[begin] == '#') continue;
        const auto end = line.find_last_not_of(" \t\r");
        auto key = core::secret_box::parse_key(std::string_view(line).substr(begin, end - begin + 1));
        if (!key)
            throw std::runtime_error(file.string() + ":" + std::to_string(number) +
                                     ": expected 32 random bytes in base64 (openssl rand -base64 32)");
        keys.push_back(std::move(*key));
    }
    if (keys.empty()) throw std::runtime_error(file.string() + ": no encryption key in the file");
    const auto mode = std::filesystem::status(file).permissions();
    if ((mode & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) !=
        std::filesystem::perms::none)
        core::log::warn("the encryption key file is readable by other users: chmod 600 it", {{"file", file.string()}});
    return core::secret_box(std::move(keys));
}

struct args {
    std::string command;
    std::string subcommand;
    std::string config_path;
    std::string name;
    std::string organization;
    std::string id;
    int expires_in_days = 0;
    std::string directory;   // mapping
    std::string connection;  // mapping explain
    std::string organization_slug;  // mapping explain, when several organizations name a connection alike
    std::string input;       // mapping explain
    bool ok = true;
};

// On first start there is no way in: create one instance-admin token and show it once.
void ensure_bootstrap_token(store::store& db) {
    if (db.count_active_tokens(schema::token_kind::instance_admin) > 0) return;
    const auto issued = issue_token(db, schema::token_kind::instance_admin, "", "bootstrap", std::nullopt,
                                    {"system", "", "idgate bootstrap", "", ""});
    std::cout << "Bootstrap admin token (shown once; store it now): " << issued.secret << std::endl;
}

// idgate token create|list|revoke --org SLUG ...: SCIM tokens, for operators without the admin API.
int token_command(const args& a, const config& c, store::store& db, const core::clock& clock) {
    const auto org = db.find_organization_by_slug(a.organization);
    if (!org) {
        std::cerr << "idgate: no organization with slug '" << a.organization << "'\n";
        return 1;
    }
    const schema::actor by{"system", "", "idgate token " + a.subcommand, "", ""};
    if (a.subcommand == "create") {
        std::optional<core::time_point> expires;
        if (a.expires_in_days > 0) expires = clock.now() + std::chrono::hours(24 * a.expires_in_days);
        std::string connection_id;
        if (!a.connection.empty()) {
            auto connection = db.identities().ensure_connection(org->id, a.connection, by);
            if (!connection) throw std::runtime_error("could not record connection '" + a.connection + "'");
            connection_id = connection->id;
        }
        const auto issued = issue_token(db, schema::token_kind::scim, org->id, a.name, expires, by, connection_id);
        std::cout << "token:         " << issued.secret << "\n"
                  << "id:            " << issued.token.id << "\n"
                  << "connection:    " << (a.connection.empty() ? "(none)" : a.connection) << "\n"
                  << "scim base url: " << urls::scim_endpoint(c.server.public_url, org->slug) << "\n"
                  << "expires:       " << (expires ? core::format_timestamp(*expires) : "never") << std::endl;
        return 0;
    }
    if (a.subcommand == "list") {
        for (const auto& t : db.list_tokens(org->id))
            if (t.kind == schema::token_kind::scim)
                std::cout << t.id << "  " << t.name << "  connection " << (t.connection_name.empty() ? "-" : t.connection_name)
                          << "  created " << core::format_timestamp(t.created) << "  expires "
                          << (t.expires ? core::format_timestamp(*t.expires) : "never") << "\n";
        return 0;
    }
    bool mine = false;
    for (const auto& t : db.list_tokens(org->id)) mine = mine || t.id == a.id;
    if (!mine || !db.revoke_token(a.id, by)) {
        std::cerr << "idgate: no active token '" << a.id << "' in organization '" << org->slug << "'\n";
        return 1;
    }
    std::cout << "revoked " << a.id << std::endl;
    return 0;
}

int serve(const config& c) {
    limit_malloc_arenas();  // before the pools start their threads (idle_memory.hpp)
    core::log::set_level(c.log.level);
    core::system_clock clock;
    auto db = open_store(c, clock);
    const auto st = db->migrate();
    core::log::info("database ready", {{"backend", db->backend_name()}, {"schema_version", st.database_version}});
    ensure_bootstrap_token(*db);
    const auto key_ring = load_key_ring(c);
    // TOTP keys stored before encryption, or under a key since rotated out of first place, are sealed
    // with the current key now, so an older key can be dropped from the ring after one start.
    if (const auto resealed = accounts::reseal_totp_keys(db->local_accounts(), key_ring);
        resealed.sealed + resealed.resealed + resealed.unreadable > 0)
        core::log::write(resealed.unreadable > 0 ? core::log::level::error : core::log::level::info,
                         "TOTP keys re-encrypted with the current key (unreadable ones: their key is not in the ring)",
            {{"sealed", resealed.sealed}, {"resealed", resealed.resealed}, {"unreadable", resealed.unreadable},
             {"key", key_ring.current_key_id()}});

    metrics stats;
    const auto mail = c.mail.enabled() ? accounts::make_smtp_mailer(c.mail) : nullptr;
    // The mapping rules must be valid to start: a server that silently ran without them would provision
    // people with the wrong roles.
    mapping::registry mappings(c.mapping.directory, clock);
    if (const auto error = mappings.reload()) throw std::runtime_error("mapping rules: " + *error);
    provisioning::reconciler reconciler(*db, c.scim.extensions);
    services svc{*db, stats, clock, c.scim.extensions, mail.get(), &mappings,
                 [&mappings](std::string_view slug) { return idp_policy_for(*mappings.current(), slug); },
                 &reconciler};
    token_cache tokens(clock, c.server.token_cache);
    svc.tokens = &tokens;
    svc.secrets = &key_ring;
    svc.sso_settings = c.sso.settings;
    svc.public_url = c.server.public_url;
    for (const auto& sc : c.sso.saml) {
        try {
            svc.saml_connections.emplace(sc.name, std::make_unique<saml::connection>(sc));
        } catch (const saml::saml_error& e) {
            throw std::runtime_error("SAML connection '" + sc.name + "': the metadata at " + sc.metadata_url +
                                     " cannot be used (" + e.code() + "): " + e.what());
        }
    }
    for (const auto& oc : c.sso.oidc)
        svc.oidc_providers.emplace(oc.name, std::make_unique<oidc::provider>(
                                                oc, clock, std::chrono::seconds(c.sso.settings.clock_skew_seconds)));
    // Identity providers whose own JWTs are SCIM bearer tokens (INTEROP E12). Their keys are fetched on
    // the first token, on the blocking pool, and refreshed like an OIDC connection's.
    for (const auto& jc : c.scim.jwt_bearer)
        svc.scim_jwt.push_back({jc.organization, jc.connection, jc.tenant_id,
                                std::make_unique<oidc::provider>(jc.verifier, clock,
                                                                 std::chrono::seconds(c.sso.settings.clock_skew_seconds))});
    router routes;
    add_routes(routes, svc);
    std::vector<std::string> names;
    for (const auto& r : routes.routes()) names.push_back(r->name);
    stats.register_routes(std::move(names));
    stats.add_gauge_source([&db = *db](std::string& out) {
        const auto p = db.stats();
        out += "# HELP idgate_db_pool_connections Database connections by state.\n"
               "# TYPE idgate_db_pool_connections gauge\n";
        // A slot being opened again counts as in use, not open, for that moment.
        out += "idgate_db_pool_connections{state=\"in_use\"} " + std::to_string(p.in_use) + "\n";
        out += "idgate_db_pool_connections{state=\"idle\"} " +
               std::to_string(p.open > p.in_use ? p.open - p.in_use : 0) + "\n";
        out += "idgate_db_pool_connections{state=\"closed\"} " + std::to_string(p.size - std::max(p.open, p.in_use)) +
               "\n";
        out += "# HELP idgate_db_pool_waiting Requests waiting for a database connection.\n"
               "# TYPE idgate_db_pool_waiting gauge\n";
        out += "idgate_db_pool_waiting " + std::to_string(p.waiting) + "\n";
        // Their ratio is the writes per commit: 1 when the server is quiet, more under load.
        out += "# HELP idgate_db_group_commits_total Write transactions committed (writes waiting together share "
               "one).\n# TYPE idgate_db_group_commits_total counter\n";
        out += "idgate_db_group_commits_total " + std::to_string(p.group_commits) + "\n";
        out += "# HELP idgate_db_group_committed_writes_total Writes those transactions carried.\n"
               "# TYPE idgate_db_group_committed_writes_total counter\n";
        out += "idgate_db_group_committed_writes_total " + std::to_string(p.group_committed_writes) + "\n";
        out += "# HELP idgate_db_read_ahead_batches_total Shared write transactions that read their writes' rows "
               "in one round trip (PostgreSQL).\n# TYPE idgate_db_read_ahead_batches_total counter\n";
        out += "idgate_db_read_ahead_batches_total " + std::to_string(p.read_ahead_batches) + "\n";
    });

    stats.add_gauge_source([&mappings](std::string& out) {
        const auto m = mappings.status();
        out += "# HELP idgate_mapping_generation Generation of the mapping rules in force (+1 per reload).\n"
               "# TYPE idgate_mapping_generation gauge\n"
               "idgate_mapping_generation " + std::to_string(m.generation) + "\n";
        out += "# HELP idgate_mapping_reloads_total Mapping reloads by result.\n"
               "# TYPE idgate_mapping_reloads_total counter\n"
               "idgate_mapping_reloads_total{result=\"ok\"} " + std::to_string(m.reloads) + "\n"
               "idgate_mapping_reloads_total{result=\"failed\"} " + std::to_string(m.failed_reloads) + "\n";
        out += "# HELP idgate_mapping_last_reload_failed 1 while the latest reload failed (the previous rules stay).\n"
               "# TYPE idgate_mapping_last_reload_failed gauge\n"
               "idgate_mapping_last_reload_failed " + std::string(m.last_error ? "1" : "0") + "\n";
    });
    stats.add_gauge_source([&db = *db, &reconciler](std::string& out) {
        const auto t = reconciler.totals();
        out += "# HELP idgate_mapping_pending_users Users queued for re-evaluation of their mapping rules.\n"
               "# TYPE idgate_mapping_pending_users gauge\n"
               "idgate_mapping_pending_users " + std::to_string(db.identities().count_pending("")) + "\n";
        out += "# HELP idgate_mapping_reconciled_users_total Users whose mapping outcome was worked out again.\n"
               "# TYPE idgate_mapping_reconciled_users_total counter\n"
               "idgate_mapping_reconciled_users_total " + std::to_string(t.evaluated) + "\n";
        out += "# HELP idgate_mapping_changed_users_total Users whose grants or status reconciliation changed.\n"
               "# TYPE idgate_mapping_changed_users_total counter\n"
               "idgate_mapping_changed_users_total " + std::to_string(t.changed) + "\n";
    });

    server srv(c.server, routes, stats, c.log.access_log);
    if (c.storage.type == storage_config::backend::postgres)
        srv.use_pipelined_reads([options = c.storage.postgres] { return store::open_user_reader(options); },
                                static_cast<std::size_t>(c.storage.postgres.pipelined_read_connections));
    const auto port = srv.listen();
    // Database connections unused for storage.idle_connection_seconds are closed; a burst's freed heap goes
    // back to the kernel once the server has gone quiet, and again when idle threads or connections have
    // gone (idle_memory.hpp).
    srv.every(std::chrono::seconds(5), [&stats, &db = *db, quiet = idle_memory_release()]() mutable {
        db.close_idle_connections(std::chrono::steady_clock::now());
        const auto held = stats.blocking_threads.load() + static_cast<std::int64_t>(db.stats().open);
        if (!quiet.tick(stats.requests_finished(), stats.in_flight.load(), held)) return;
        const auto released = release_free_heap();
        core::log::debug("idle: free heap released", {{"kib", static_cast<std::int64_t>(released)}});
    });
    const auto retention = std::chrono::hours(c.storage.change_retention_hours);
    // The change-feed relay: events are numbered within about a second of their commit.
    srv.every(std::chrono::seconds(1), [&db = *db] { db.sequence_changes(); });
    if (!c.mapping.directory.empty()) {
        // Mapping files are picked up when they change (checked every 2 s), on SIGHUP, or on
        // POST /api/v1/mapping/reload; a bad edit is logged and the previous rules stay.
        const auto reload = [&mappings](const char* trigger, bool only_if_changed) {
            const auto before = mappings.status().generation;
            const auto error = only_if_changed ? mappings.reload_if_changed() : mappings.reload();
            const auto after = mappings.status().generation;
            if (error)
                core::log::error("mapping reload failed; the previous rules stay",
                                 {{"trigger", trigger}, {"error", *error}});
            else if (after != before)
                core::log::info("mapping rules in force",
                                {{"trigger", trigger}, {"generation", static_cast<std::int64_t>(after)}});
        };
        srv.every(std::chrono::seconds(2), [reload] { reload("file change", true); });
        srv.on_sighup([reload] { reload("SIGHUP", false); });
    }
    // The reconciler: works through users queued by changes (theirs, their groups', or the rules') about
    // every second. With mapping.reconcile on_reload, a reload that changes the rules queues every user
    // bound to their connections first.
    srv.every(std::chrono::seconds(1), [&mappings, &reconciler, on_reload = c.mapping.reconcile_on_reload,
                                        seen = mappings.status().generation]() mutable {
        const auto rules = mappings.current();
        if (rules->generation != seen) {
            seen = rules->generation;
            if (on_reload) {
                const auto queued = reconciler.queue_all(rules->files);
                core::log::info("mapping rules changed: re-evaluating bound users",
                                {{"generation", static_cast<std::int64_t>(seen)}, {"queued", queued}});
            }
        }
        reconciler.drain(*rules, 5000);
    });
    // IdP metadata fetched from a URL: refetched on its schedule; a failed refetch keeps what is in force.
    for (const auto& [name, connection] : svc.saml_connections) {
        if (!connection->refreshes()) continue;
        srv.every(std::chrono::seconds(connection->configured().metadata_refresh_seconds),
                  [&connection = *connection, name = name] {
                      const auto r = connection.refresh();
                      if (!r.error.empty())
                          core::log::error("saml metadata refresh failed; the metadata in force stays",
                                           {{"connection", name}, {"reason", r.code}, {"error", r.error}});
                      else if (r.changed)
                          core::log::info("saml metadata updated", {{"connection", name},
                                                                    {"url", connection.configured().metadata_url}});
                  });
    }
    srv.every(std::chrono::minutes(10), [&db = *db, &clock] {
        // Sign-ins that were never finished (their states expired) leave nothing behind.
        const auto pruned = db.identities().prune_sign_in_states(clock.now() - std::chrono::hours(1));
        if (pruned > 0) core::log::info("pruned expired sign-in states", {{"count", pruned}});
    });
    srv.every(std::chrono::minutes(10), [&db = *db, &clock, retention] {
        const auto pruned = db.prune_changes(clock.now() - retention);
        if (pruned > 0) core::log::info("pruned change events", {{"count", pruned}});
    });
    std::cout << "idgate listening on " << (c.server.tls.enabled() ? "https" : "http") << "://" << c.server.address
              << ":" << port << std::endl;
    core::log::info("listening", {{"address", c.server.address}, {"port", port}, {"tls", c.server.tls.enabled()}});
    srv.run();
    return 0;
}

args parse_args(int argc, char** argv) {
    args a;
    std::vector<std::string> v(argv + 1, argv + argc);
    if (v.empty()) {
        a.ok = false;
        return a;
    }
    a.command = v[0];
    std::size_t i = 1;
    const bool token_commands = a.command == "admin-token" || a.command == "token";
    if (a.command == "mapping") {
        a.subcommand = v.size() > 1 ? v[1] : "";
        if (a.subcommand != "check" && a.subcommand != "explain" && a.subcommand != "plan" && a.subcommand != "apply")
            a.ok = false;
        const bool reconciling = a.subcommand == "plan" || a.subcommand == "apply";
        for (i = 2; i < v.size(); ++i) {
            const bool has_value = i + 1 < v.size();
            if (v[i] == "--config" && has_value) a.config_path = v[++i];
            else if (v[i] == "--dir" && has_value) a.directory = v[++i];
            else if ((a.subcommand == "explain" || reconciling) && v[i] == "--connection" && has_value)
                a.connection = v[++i];
            else if ((a.subcommand == "explain" || reconciling) && v[i] == "--organization" && has_value)
                a.organization_slug = v[++i];
            else if (a.subcommand == "explain" && v[i] == "--input" && has_value) a.input = v[++i];
            else if (a.subcommand == "check" && a.directory.empty() && v[i].rfind("--", 0) != 0) a.directory = v[i];
            else a.ok = false;
        }
        if (a.subcommand == "explain" && (a.connection.empty() || a.input.empty())) a.ok = false;
        return a;
    }
    if (token_commands) {
        a.subcommand = v.size() > 1 ? v[1] : "";
        const bool known = a.command == "admin-token" ? a.subcommand == "create"
                                                      : (a.subcommand == "create" || a.subcommand == "list" ||
                                                         a.subcommand == "revoke");
        if (!known) a.ok = false;
        a.name = "cli";
        i = 2;
    }
    for (; i < v.size(); ++i) {
        const bool has_value = i + 1 < v.size();
        if (v[i] == "--config" && has_value) {
            a.config_path = v[++i];
        } else if (token_commands && v[i] == "--name" && has_value) {
            a.name = v[++i];
        } else if (a.command == "token" && v[i] == "--org" && has_value) {
            a.organization = v[++i];
        } else if (a.command == "token" && a.subcommand == "create" && v[i] == "--connection" && has_value) {
            a.connection = v[++i];
            if (!schema::is_valid_slug(a.connection)) a.ok = false;
        } else if (a.command == "token" && v[i] == "--id" && has_value) {
            a.id = v[++i];
        } else if (a.command == "token" && v[i] == "--expires-in-days" && has_value) {
            try {
                a.expires_in_days = std::stoi(v[++i]);
            } catch (const std::exception&) {
                a.ok = false;
            }
            if (a.expires_in_days < 1 || a.expires_in_days > 3650) a.ok = false;
        } else if (a.command == "check-config" && a.config_path.empty()) {
            a.config_path = v[i];
        } else {
            a.ok = false;
        }
    }
    if (a.command == "token" && (a.organization.empty() || (a.subcommand == "revoke" && a.id.empty())))
        a.ok = false;
    return a;
}

std::string change_text(const store::grant_change& g) {
    std::string out = (g.op == "add" ? "+ " : g.op == "remove" ? "- " : "  ") + g.what + " " + g.value;
    if (!g.rule.empty()) out += "  (rule " + g.rule + ")";
    if (g.op == "keep" || g.op == "skip") out += "  [" + g.op + ": " + g.note + "]";
    return out;
}

// idgate mapping plan|apply: rules as desired state, for users the connections already have.
int reconcile_command(const args& a, const config& c, const std::vector<mapping::mapping_file>& files) {
    core::system_clock clock;
    auto db = open_store(c, clock);
    db->migrate();
    provisioning::reconciler reconciler(*db, c.scim.extensions);
    std::vector<mapping::mapping_file> selected;
    for (const auto& f : files)
        if ((a.connection.empty() || f.connection == a.connection) &&
            (a.organization_slug.empty() || f.organization == a.organization_slug))
            selected.push_back(f);
    if (selected.empty()) {
        std::cerr << "idgate mapping " << a.subcommand << ": no mapping file matches\n";
        return 1;
    }
    if (a.subcommand == "plan") {
        std::int64_t changes = 0;
        for (const auto& f : selected) {
            std::int64_t examined = 0;
            const auto plan = reconciler.plan(f, 1000, examined);
            std::cout << f.organization << "/" << f.connection << ": " << examined << " bound user(s), " << plan.size()
                      << (plan.size() >= 1000 ? "+" : "") << " would change\n";
            for (const auto& r : plan) {
                std::cout << "  " << r.user_name << "\n";
                for (const auto& g : r.changes) std::cout << "    " << change_text(g) << "\n";
            }
            changes += static_cast<std::int64_t>(plan.size());
        }
        return 0;
    }
    // apply: queue, then work through the queue with every file of the directory in force.
    const mapping::snapshot rules{files, 0, clock.now()};
    const auto queued = reconciler.queue_all(selected);
    std::cout << "queued " << queued << " user(s) for re-evaluation" << std::endl;
    std::int64_t done = 0, changed = 0;
    for (;;) {
        const auto step = reconciler.drain(rules, 500);
        done += step.evaluated;
        changed += step.changed;
        if (step.evaluated == 0) break;
        std::cout << "reconciled " << done << " user(s), " << changed << " changed; "
                  << db->identities().count_pending("") << " queued" << std::endl;
    }
    std::cout << "done: " << done << " user(s) re-evaluated, " << changed << " changed (see the audit trail, "
              << "action user.grants_reconcile)" << std::endl;
    return 0;
}

int mapping_command(const args& a, const config& c) {
    const std::string directory = a.directory.empty() ? c.mapping.directory : a.directory;
    if (directory.empty()) {
        std::cerr << "idgate mapping: give a directory (DIR or --dir), or set mapping.directory in the configuration\n";
        return 2;
    }
    const auto files = mapping::load_mapping_directory(directory);  // all valid, or a file_error
    if (a.subcommand == "check") {
        std::cout << directory << ": OK, " << files.size() << " file(s)";
        for (std::size_t i = 0; i < files.size(); ++i)
            std::cout << (i ? ", " : ": ") << files[i].organization << "/" << files[i].connection << " ("
                      << files[i].rules.rules.size() << " rules)";
        std::cout << "\n";
        return 0;
    }
    if (a.subcommand == "plan" || a.subcommand == "apply") return reconcile_command(a, c, files);
    const mapping::mapping_file* chosen = nullptr;
    for (const auto& f : files) {
        if (f.connection != a.connection || (!a.organization_slug.empty() && f.organization != a.organization_slug))
            continue;
        if (chosen) {
            std::cerr << "idgate mapping explain: several organizations have a connection '" << a.connection
                      << "'; add --organization SLUG\n";
            return 2;
        }
        chosen = &f;
    }
    if (!chosen) {
        std::cerr << "idgate mapping explain: no mapping file for connection '" << a.connection << "' in " << directory
                  << "\n";
        return 1;
    }
    std::ifstream in(a.input, std::ios::binary);
    if (!in) {
        std::cerr << a.input << ": cannot read the sample\n";
        return 1;
    }
    std::ostringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    const auto sample = boost::json::parse(text.str(), ec);
    if (ec || !sample.is_object()) {
        std::cerr << a.input << ": expected a JSON object (a SCIM User, SAML attributes or OIDC claims)\n";
        return 1;
    }
    const auto outcome = mapping::evaluate(chosen->rules, mapping::identity_from_json(sample.as_object()));
    std::cout << boost::json::serialize(mapping::outcome_to_json(outcome)) << "\n";
    return outcome.accepted() ? 0 : 3;
}

}  // namespace

int run_cli(int argc, char** argv) {
    const auto a = parse_args(argc, argv);
    if (!a.ok || a.command == "help" || a.command == "--help") {
        std::cerr << usage;
        return a.ok ? 0 : 2;
    }
    try {
        if (a.command == "version") {
            std::cout << "idgate " IDGATE_VERSION "\n";
            return 0;
        }
        if (a.command == "check-config") {
            if (a.config_path.empty()) {
                std::cerr << usage;
                return 2;
            }
            load_config(a.config_path);
            std::cout << a.config_path << ": OK\n";
            return 0;
        }
        const config c = a.config_path.empty() ? config{} : load_config(a.config_path);
        if (a.command == "mapping") return mapping_command(a, c);
        if (a.command == "serve") return serve(c);
        if (a.command == "migrate") {
            core::system_clock clock;
            const auto st = open_store(c, clock)->migrate();
            std::cout << "database schema at version " << st.database_version << "\n";
            return 0;
        }
        if (a.command == "admin-token" || a.command == "token") {
            // Works while the server runs: it is just another client of the same database.
            core::system_clock clock;
            auto db = open_store(c, clock);
            db->migrate();
            if (a.command == "token") return token_command(a, c, *db, clock);
            const auto issued = issue_token(*db, schema::token_kind::instance_admin, "", a.name, std::nullopt,
                                            {"system", "", "idgate admin-token create", "", ""});
            std::cout << issued.secret << std::endl;
            return 0;
        }
        std::cerr << "unknown command '" << a.command << "'\n" << usage;
        return 2;
    } catch (const config_error& e) {
        std::cerr << e.what() << "\n";
        return 1;
    } catch (const mapping::file_error& e) {
        std::cerr << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        core::log::error("fatal", {{"error", e.what()}});
        core::log::flush();
        std::cerr << "idgate: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace idgate::gateway
