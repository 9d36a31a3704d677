// SPDX-License-Identifier: AGPL-3.0-or-later
// A shared object that is not an idgate adapter (no entry), for tests/unit/adapter_test.cpp.
extern "C" __attribute__((visibility("default"))) int idgate_test_plain_library() { return 0; }
