// SPDX-License-Identifier: AGPL-3.0-or-later
// The libraries only SSO and mail use are loaded only when configured (core/adapter.hpp), and GnuTLS,
// which only libpq's LDAP support brings in, does not initialise itself (gateway/src/main.cpp): the real
// idgate binary, looked at through /proc/<pid>/maps and the dynamic loader's own trace.
#include <boost/test/unit_test.hpp>
#include <sstream>

#include "gateway_process.hpp"
#include "http_client.hpp"
#include "scim_setup.hpp"

using namespace idgate::test;
using http::verb;

namespace {

const char* const sso_and_mail_libraries[] = {"idgate_saml_adapter.so", "idgate_oidc_adapter.so",
                                              "idgate_smtp_adapter.so", "libxml2.so", "libxmlsec1",
                                              "liboauth2.so", "libcjose.so", "libcurl.so"};

}  // namespace

BOOST_AUTO_TEST_SUITE(loadable_adapters)

BOOST_AUTO_TEST_CASE(a_gateway_without_sso_or_mail_never_maps_their_libraries) {
    gateway_process gw("", "no-adapters");
    // Some work first: an organisation and its SCIM token, a user pushed and looked up.
    const std::vector<std::pair<std::string, std::string>> scim{{"Authorization", "Bearer " + organization_with_scim_token(gw)}};
    const auto created = call(gw.port(), verb::post, "/scim/v2/acme/Users", R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@acme.test"})", scim);
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    BOOST_TEST(call(gw.port(), verb::get, "/scim/v2/acme/Users?filter=userName%20eq%20%22ada@acme.test%22", "", scim).status ==
               200);
    for (const char* library : sso_and_mail_libraries) BOOST_TEST(!maps_file(gw.pid(), library), library);
    // The libraries the gateway does use are there: the check looks in the right place.
    BOOST_TEST(maps_file(gw.pid(), "libcrypto.so"));
}

BOOST_AUTO_TEST_CASE(a_mail_server_loads_the_smtp_adapter_and_nothing_of_sso) {
    gateway_process gw("", "smtp-adapter",
                       "mail:\n  smtp_url: smtp://127.0.0.1:9\n  from: no-reply@idgate.test\n  require_tls: false\n");
    BOOST_TEST(maps_file(gw.pid(), "idgate_smtp_adapter.so"));
    BOOST_TEST(maps_file(gw.pid(), "libcurl.so"));
    for (const char* library : {"idgate_saml_adapter.so", "idgate_oidc_adapter.so", "libxml2.so", "liboauth2.so"})
        BOOST_TEST(!maps_file(gw.pid(), library), library);
}

BOOST_AUTO_TEST_CASE(gnutls_finds_the_programs_switch_for_its_implicit_initialisation) {
    // The dynamic loader's trace names every symbol binding: GnuTLS's constructor must bind its switch to
    // the idgate executable, not to its own default (which lets it initialise).
    const auto traced = run_idgate_with_environment("LD_DEBUG=bindings", "version");
    BOOST_TEST_REQUIRE(traced.status == 0, traced.output);
    bool bound_to_idgate = false;
    std::istringstream lines(traced.output);
    for (std::string line; std::getline(lines, line);)
        if (line.find("libgnutls.so") != std::string::npos && line.find("`_gnutls_global_init_skip'") != std::string::npos)
            bound_to_idgate = line.find(std::string(" to ") + IDGATE_BINARY) != std::string::npos;
    BOOST_TEST(bound_to_idgate, "no binding of _gnutls_global_init_skip from libgnutls to " << IDGATE_BINARY);
}

BOOST_AUTO_TEST_SUITE_END()
