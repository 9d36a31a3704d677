// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The table of the test adapters of tests/unit/adapter_test.cpp.
#include <string>

namespace idgate::test {

struct echo_adapter {
    int (*twice)(int);
    std::string (*greet)(const std::string&);
    void (*refuse)(const std::string&);  // throws std::invalid_argument
    void (*warn)(const std::string&);    // logs a warning with the field "said"
};

}  // namespace idgate::test
