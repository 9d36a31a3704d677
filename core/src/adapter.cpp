// SPDX-License-Identifier: AGPL-3.0-or-later
// The executable's side of the loadable adapters (core/adapter.hpp): finding, opening and checking them.
#include "core/adapter.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace idgate::core::adapter {
namespace {

// The directory of the running executable: an installation that copies idgate keeps its adapters beside it.
std::string executable_directory() {
    char path[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) return {};
    const std::string exe(path, static_cast<std::size_t>(n));
    const auto slash = exe.rfind('/');
    return slash == std::string::npos ? std::string() : exe.substr(0, slash);
}

struct registry {
    std::mutex mutex;
    std::map<std::string, const void*, std::less<>> tables;
};

registry& opened() {
    static registry r;
    return r;
}

}  // namespace

const void* open(std::string_view name) {
    auto& r = opened();
    const std::lock_guard lock(r.mutex);
    if (const auto it = r.tables.find(name); it != r.tables.end()) return it->second;

    const std::string file = "idgate_" + std::string(name) + "_adapter.so";
    // Beside the executable (the build tree, or a copy that keeps them together); where `cmake --install`
    // puts them relative to it (<bindir>/../<libdir>/idgate); last, the build tree's directory, for the
    // test programs, which run from elsewhere.
    const auto here = executable_directory();
    std::vector<std::string> directories{here};
    if (!here.empty()) directories.push_back(here + "/" + IDGATE_ADAPTER_DIR_FROM_BINDIR);
    if (here != IDGATE_ADAPTER_DIR) directories.emplace_back(IDGATE_ADAPTER_DIR);

    std::string reasons;
    for (const auto& directory : directories) {
        if (directory.empty()) continue;
        const std::string path = directory + "/" + file;
        if (!reasons.empty()) reasons += "; ";
        if (::access(path.c_str(), F_OK) != 0) {
            reasons += path + ": no such file";
            continue;
        }
        // RTLD_NOW: a library the adapter needs that is missing fails here, with the loader's message,
        // not at its first call. RTLD_LOCAL: adapters do not see each other's symbols.
        void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* why = ::dlerror();
            reasons += path + ": " + (why ? why : "cannot be loaded");
            continue;
        }
        const auto entry = reinterpret_cast<entry_function>(::dlsym(handle, entry_symbol));
        const host lent{IDGATE_ADAPTER_BUILD_ID, &log::write};
        const void* table = entry ? entry(&lent) : nullptr;
        if (table == nullptr) {
            reasons += path + (entry ? ": built by another build of idgate" : ": not an idgate adapter");
            ::dlclose(handle);
            continue;
        }
        r.tables.emplace(name, table);  // never closed: its code and objects live as long as the process
        log::info("adapter loaded", {{"adapter", name}, {"path", path}});
        return table;
    }
    throw unavailable("cannot load idgate's " + std::string(name) + " adapter (" + file + "): " + reasons);
}

}  // namespace idgate::core::adapter
