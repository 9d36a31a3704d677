// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// Loadable adapters. The C libraries that only some deployments use -- libxml2 and xmlsec1 (SAML),
// liboauth2 and cjose (OpenID Connect), libcurl (SMTP mail, SAML metadata) -- are linked into small
// shared objects next to the executable, and idgate opens one the first time a connection or the mail
// settings need it. A deployment that does not use them never maps them: about 2.5 MB of resident memory
// at idle (docs/benchmarks.md). Each adapter is still the one file that includes its library; what
// crosses the boundary is a table of function pointers over idgate's own types.
//
// The executable and its adapters are built together: an adapter from another build is refused (its
// tables might not match), and so is one that cannot be loaded, with the paths tried and the loader's
// reason, so a missing library shows up when the configuration is loaded, not at the first sign-in.
#include <initializer_list>
#include <stdexcept>
#include <string_view>

#include "core/log.hpp"

namespace idgate::core::adapter {

// What the executable lends an adapter. An adapter keeps no logger of its own: its log lines go through
// the executable's, with its level and buffering.
struct host {
    const char* build_id;
    void (*write_log)(log::level, std::string_view, std::initializer_list<log::field>);
};

// The one symbol an adapter exports (IDGATE_ADAPTER_ENTRY): its table, or nullptr when `build_id` is
// not its own.
using entry_function = const void* (*)(const host*);
inline constexpr const char* entry_symbol = "idgate_adapter_entry";

class unavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The table of the adapter `name` (file idgate_<name>_adapter.so), from the directory of the running
// executable, else from where `cmake --install` puts adapters relative to it, else from the build tree's,
// opened on the first call: once per process, thread-safe, never closed. Throws `unavailable`.
const void* open(std::string_view name);

template <class Table>
const Table& table(std::string_view name) {
    return *static_cast<const Table*>(open(name));
}

// The adapter's side of the entry: checks the build id and takes the host's logger.
bool attach(const host* h);

}  // namespace idgate::core::adapter

// Defines the adapter's exported entry, returning `table_object` (an object with static storage).
#define IDGATE_ADAPTER_ENTRY(table_object)                                                                  \
    extern "C" __attribute__((visibility("default"))) const void* idgate_adapter_entry(                  \
        const ::idgate::core::adapter::host* h) {                                                          \
        return ::idgate::core::adapter::attach(h) ? static_cast<const void*>(&(table_object)) : nullptr; \
    }
