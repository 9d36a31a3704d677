// SPDX-License-Identifier: AGPL-3.0-or-later
// core/adapter.hpp: finding, opening and checking loadable adapters. The test adapters are built beside
// this test program (tests/CMakeLists.txt), the directory the loader looks in first; the real ones are in
// the build tree's gateway directory, where it looks next.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "adapters/echo_adapter.hpp"
#include "core/adapter.hpp"
#include "core/log.hpp"
#include "saml/response.hpp"

namespace adapter = idgate::core::adapter;

namespace {

std::string refusal(std::string_view name) {
    try {
        adapter::open(name);
    } catch (const adapter::unavailable& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(loadable_adapter)

BOOST_AUTO_TEST_CASE(an_adapter_of_this_build_is_opened_once_and_its_table_works) {
    const auto& echo = adapter::table<idgate::test::echo_adapter>("test_echo");
    BOOST_TEST(&echo == &adapter::table<idgate::test::echo_adapter>("test_echo"));  // opened once
    BOOST_TEST(echo.twice(21) == 42);
    BOOST_TEST(echo.greet("ada") == "hello, ada");
    // An exception thrown in the adapter is caught here, by its type.
    BOOST_CHECK_EXCEPTION(echo.refuse("no"), std::invalid_argument,
                          [](const std::invalid_argument& e) { return std::string(e.what()) == "no"; });
}

BOOST_AUTO_TEST_CASE(an_adapter_logs_through_the_programs_logger) {
    const auto& echo = adapter::table<idgate::test::echo_adapter>("test_echo");
    // The program's logger writes JSON lines to standard error: catch them in a file.
    std::FILE* captured = std::tmpfile();
    BOOST_TEST_REQUIRE(captured != nullptr);
    idgate::core::log::flush();
    const int saved = ::dup(STDERR_FILENO);
    ::dup2(::fileno(captured), STDERR_FILENO);
    echo.warn("through the host");
    idgate::core::log::flush();
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    std::string text;
    std::rewind(captured);
    for (int c; (c = std::fgetc(captured)) != EOF;) text.push_back(static_cast<char>(c));
    std::fclose(captured);
    BOOST_TEST(contains(text, R"("level":"warn","msg":"test adapter","said":"through the host")"), text);
}

BOOST_AUTO_TEST_CASE(a_missing_adapter_names_the_file_and_every_place_looked) {
    const auto why = refusal("absent");
    BOOST_TEST(contains(why, "idgate_absent_adapter.so"), why);
    BOOST_TEST(contains(why, IDGATE_TEST_BINARY_DIR "/idgate_absent_adapter.so: no such file"), why);
    BOOST_TEST(contains(why, IDGATE_ADAPTER_DIR "/idgate_absent_adapter.so: no such file"), why);
    // Nothing is remembered: the same answer again, not a crash on a half-registered adapter.
    BOOST_TEST(refusal("absent") == why);
}

BOOST_AUTO_TEST_CASE(an_adapter_of_another_build_is_refused) {
    const auto why = refusal("test_foreign");
    BOOST_TEST(contains(why, "idgate_test_foreign_adapter.so: built by another build of idgate"), why);
}

BOOST_AUTO_TEST_CASE(a_library_that_is_not_an_adapter_is_refused) {
    const auto why = refusal("test_plain");
    BOOST_TEST(contains(why, "idgate_test_plain_adapter.so: not an idgate adapter"), why);
}

BOOST_AUTO_TEST_CASE(the_real_adapters_are_found_in_the_build_tree) {
    // Through the SAML module's own functions, which open idgate_saml_adapter.so.
    BOOST_TEST(!idgate::saml::certificate_usable("not a certificate"));
    BOOST_TEST(adapter::open("saml") != nullptr);
    BOOST_TEST(adapter::open("oidc") != nullptr);
    BOOST_TEST(adapter::open("smtp") != nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
