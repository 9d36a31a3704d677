// SPDX-License-Identifier: AGPL-3.0-or-later
#define BOOST_TEST_MODULE idgate unit tests
#include <boost/test/unit_test.hpp>
