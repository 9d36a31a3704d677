// SPDX-License-Identifier: AGPL-3.0-or-later
// A loadable adapter for tests/unit/adapter_test.cpp. Built twice: as idgate_test_echo_adapter.so, tied to
// this build, and as idgate_test_foreign_adapter.so, with another build's id.
#include "echo_adapter.hpp"

#include <stdexcept>

#include "core/adapter.hpp"
#include "core/log.hpp"

namespace idgate::test {
namespace {

int twice(int n) { return 2 * n; }
std::string greet(const std::string& name) { return "hello, " + name; }
void refuse(const std::string& why) { throw std::invalid_argument(why); }
void warn(const std::string& text) { core::log::warn("test adapter", {{"said", text}}); }

constexpr echo_adapter table{&twice, &greet, &refuse, &warn};

}  // namespace
}  // namespace idgate::test

IDGATE_ADAPTER_ENTRY(idgate::test::table)
