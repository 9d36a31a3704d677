// SPDX-License-Identifier: AGPL-3.0-or-later
// The adapter's side of core/adapter.hpp, linked into every loadable adapter instead of core/src/log.cpp:
// the adapter's log lines go to the executable's logger, so there is one logger per process.
#include <atomic>
#include <cstring>

#include "core/adapter.hpp"

namespace idgate::core {
namespace {

std::atomic<decltype(adapter::host::write_log)> host_log{nullptr};

}  // namespace

bool adapter::attach(const host* h) {
    if (h == nullptr || std::strcmp(h->build_id, IDGATE_ADAPTER_BUILD_ID) != 0) return false;
    host_log.store(h->write_log);
    return true;
}

void log::write(level l, std::string_view message, std::initializer_list<field> fields) {
    if (const auto forward = host_log.load()) forward(l, message, fields);
}

}  // namespace idgate::core
