// SPDX-License-Identifier: AGPL-3.0-or-later
#define BOOST_TEST_MODULE integration (SQLite)
#include <boost/test/unit_test.hpp>

#include "gateway_process.hpp"

namespace idgate::test {
backend_choice integration_backend(const std::filesystem::path& dir) {
    return {"storage:\n  type: sqlite\n  sqlite:\n    path: " + (dir / "idgate.db").string() + "\n"};
}
}  // namespace idgate::test
