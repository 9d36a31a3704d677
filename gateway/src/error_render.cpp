// SPDX-License-Identifier: AGPL-3.0-or-later
// The one place errors become response bodies.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/log.hpp"
#include "gateway/router.hpp"
#include "scim/user_codec.hpp"
#include "store/errc.hpp"

namespace idgate::gateway {

core::response render_error(const core::http_error& e, error_style style, const std::string& request_id) {
    const auto level = e.status() >= 500 ? core::log::level::warn : core::log::level::debug;
    if (core::log::enabled(level))
        core::log::write(level, "request failed",
                         {{"request_id", request_id},
                          {"status", e.status()},
                          {"code", e.code()},
                          {"detail", e.detail()},
                          {"internal", e.internal()}});
    core::response res;
    res.status = e.status();
    res.headers = e.headers();
    if (style == error_style::scim) {
        res.content_type = "application/scim+json";
        res.body = boost::json::serialize(scim::error_body(e.status(), e.scim_type(), e.detail()));
    } else {
        boost::json::object body{
            {"error", boost::json::object{{"status", e.status()}, {"code", e.code()}, {"message", e.detail()}}},
            {"request_id", request_id}};
        res.body = boost::json::serialize(body);
    }
    return res;
}

core::response render_unexpected(std::exception_ptr ep, error_style style, const std::string& request_id) {
    try {
        std::rethrow_exception(ep);
    } catch (const store::unavailable& e) {
        core::log::error("storage unavailable", {{"request_id", request_id}, {"error", e.what()}});
        return render_error(core::http_error(503, "unavailable",
                                             "the database is unavailable; retry later (request " + request_id + ")")
                                .with_header("Retry-After", "5"),
                            style, request_id);
    } catch (const std::exception& e) {
        core::log::error("unhandled error", {{"request_id", request_id}, {"error", e.what()}});
    } catch (...) {
        core::log::error("unhandled non-standard exception", {{"request_id", request_id}});
    }
    return render_error(
        core::http_error(500, "internal_error", "internal server error (request " + request_id + ")"), style,
        request_id);
}

}  // namespace idgate::gateway
