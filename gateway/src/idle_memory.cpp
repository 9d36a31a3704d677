// SPDX-License-Identifier: AGPL-3.0-or-later
#include "idle_memory.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace idgate::gateway {

namespace {

std::size_t resident_anonymous_kib() {
    std::ifstream status("/proc/self/status");
    std::string key;
    std::size_t value = 0;
    while (status >> key) {
        if (key == "RssAnon:") {
            status >> value;
            return value;
        }
        status.ignore(1 << 10, '\n');
    }
    return 0;
}

}  // namespace

int limit_malloc_arenas() {
#if defined(__GLIBC__)
    if (std::getenv("MALLOC_ARENA_MAX")) return 0;  // the operator's choice (mallopt(3))
    // An arena per thread that can run at once is enough to keep malloc's locks uncontended; glibc's
    // default (eight per core) mostly multiplies the memory a burst leaves behind. Measured on two cores,
    // PostgreSQL, 32 blocking threads, after POST, GET and PATCH loads: the same rates, 1.2 MB less
    // resident when idle (docs/benchmarks.md).
    const int limit = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
    return mallopt(M_ARENA_MAX, limit) == 1 ? limit : 0;
#else
    return 0;
#endif
}

std::size_t release_free_heap() {
#if defined(__GLIBC__)
    const auto before = resident_anonymous_kib();
    malloc_trim(0);
    const auto after = resident_anonymous_kib();
    return before > after ? before - after : 0;
#else
    return 0;
#endif
}

}  // namespace idgate::gateway
