// SPDX-License-Identifier: AGPL-3.0-or-later
// The liboauth2 adapter's functions (src/liboauth2_adapter.hpp), forwarded to idgate_oidc_adapter.so,
// which the first call opens: a deployment without OpenID Connect connections never maps liboauth2.
#include "liboauth2_adapter.hpp"

#include "core/adapter.hpp"

namespace idgate::oidc::detail {
namespace {

const oauth2_adapter& adapter() {
    static const auto& table = core::adapter::table<oauth2_adapter>("oidc");
    return table;
}

}  // namespace

http_reply http_get(const std::string& url, int timeout_seconds, const std::string& bearer_token) {
    return adapter().http_get(url, timeout_seconds, bearer_token);
}

http_reply http_post_form(const std::string& url, const std::vector<std::pair<std::string, std::string>>& form,
                          int timeout_seconds, const std::string& basic_user, const std::string& basic_password) {
    return adapter().http_post_form(url, form, timeout_seconds, basic_user, basic_password);
}

std::string sign_rs256(const std::string& header_json, const std::string& payload_json, const std::string& private_key_pem) {
    return adapter().sign_rs256(header_json, payload_json, private_key_pem);
}

std::shared_ptr<const key_set> key_set::parse(const std::string& jwks_json) { return adapter().parse_key_set(jwks_json); }

}  // namespace idgate::oidc::detail
