// SPDX-License-Identifier: AGPL-3.0-or-later
// Health, readiness, metrics and version.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "handlers.hpp"

namespace idgate::gateway::handlers {

core::response healthz(const core::request&) { return core::response::json(200, R"({"status":"ok"})"); }

core::response readyz(services& s, const core::request&) {
    // Ready = the database answers and carries exactly the schema this binary expects.
    try {
        s.db.ping();
        const auto st = s.db.status();
        if (!st.current())
            throw core::http_error(503, "not_ready",
                                   "database schema is at version " + std::to_string(st.database_version) +
                                       ", this binary needs " + std::to_string(st.binary_version));
        return core::response::json(
            200, boost::json::serialize(boost::json::object{{"status", "ready"},
                                                            {"database", s.db.backend_name()},
                                                            {"schema_version", st.database_version}}));
    } catch (const store::unavailable& e) {
        throw core::http_error(503, "not_ready", "database unreachable", e.what());
    }
}

core::response metrics_text(services& s, const core::request&) {
    core::response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = s.stats.render();
    return r;
}

core::response version(const core::request&) {
    return core::response::json(200, R"({"name":"idgate","version":")" IDGATE_VERSION R"("})");
}

}  // namespace idgate::gateway::handlers
