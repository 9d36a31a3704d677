// SPDX-License-Identifier: AGPL-3.0-or-later
// Creates users through idgate's storage layer from several threads for a fixed time and prints the
// rate and latency percentiles. bench/run.sh compares it with pgbench doing raw single-row INSERTs on
// the same PostgreSQL in the same run.
//   store_write_bench "CONNINFO" THREADS SECONDS
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "store/store.hpp"

using namespace idgate;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: store_write_bench CONNINFO THREADS SECONDS\n";
        return 2;
    }
    const int threads = std::stoi(argv[2]);
    const auto duration = std::chrono::seconds(std::stoi(argv[3]));
    core::system_clock clock;
    auto db = store::open_postgres({argv[1], threads}, clock);
    db->migrate();
    schema::organization org;
    org.slug = "bench-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    org.name = "bench";
    const schema::actor actor{"system", "", "bench", "127.0.0.1", ""};
    org = db->create_organization(org, actor).value();

    std::atomic<bool> go{true};
    std::mutex mutex;
    std::vector<double> latencies_ms;
    std::vector<std::thread> workers;
    const auto start = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            std::vector<double> mine;
            for (long i = 0; go; ++i) {
                schema::user u;
                u.organization_id = org.id;
                u.user_name = "u" + std::to_string(t) + "-" + std::to_string(i) + "@example.com";
                u.name.given_name = "Given";
                u.name.family_name = "Family";
                u.emails = {{u.user_name, "work", "", true}};
                const auto t0 = std::chrono::steady_clock::now();
                db->create_user(u, actor).value();
                mine.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
            }
            std::lock_guard lock(mutex);
            latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
        });
    }
    std::this_thread::sleep_for(duration);
    go = false;
    for (auto& w : workers) w.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::sort(latencies_ms.begin(), latencies_ms.end());
    const auto pct = [&](double p) {
        return latencies_ms.empty() ? 0.0 : latencies_ms[static_cast<std::size_t>(p * (latencies_ms.size() - 1))];
    };
    std::cout << "writes=" << latencies_ms.size() << " rate=" << latencies_ms.size() / seconds << " p50_ms=" << pct(0.5)
              << " p99_ms=" << pct(0.99) << "\n";
}
