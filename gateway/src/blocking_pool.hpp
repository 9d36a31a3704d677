// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// The threads that run blocking work (database transactions, XML signatures, outbound HTTP), so that the
// I/O threads never wait on it. The pool grows on demand up to its maximum and shrinks back to its minimum
// when threads stay idle, the way Tomcat's and Java's cached pools do. A burst of SCIM writes can hold
// dozens of threads (a write waiting for its group commit holds one); between bursts, the threads that
// leave give back their stacks and their malloc caches: glibc keeps a cache of freed blocks per thread
// (tcache) that only the thread's exit returns to the heap, 80 KB or more per thread after a load.
//
// An idle thread that is handed a job is the one that went idle last (a stack, not a queue), so light
// work such as the once-a-second housekeeping keeps the same few threads busy and the others can time out.
// On Asio's scheduler (thread_pool, io_context::run_one_for), which wakes whichever waiting thread the
// kernel picks, the housekeeping alone reached every one of 32 threads within each minute: none ever left.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace idgate::gateway {

// How blocking_pool::run completes: the job's exception, or nothing, and its result if it has one.
template <typename R>
struct blocking_completion {
    using signature = void(std::exception_ptr, R);
};
template <>
struct blocking_completion<void> {
    using signature = void(std::exception_ptr);
};

class blocking_pool {
public:
    struct limits {
        std::size_t max_threads = 8;
        std::size_t min_threads = 2;  // kept however long they are idle (at least 1, at most max_threads)
        std::chrono::steady_clock::duration idle_timeout = std::chrono::seconds(60);
    };
    // Told the thread count and the threads retired so far each time a thread starts or leaves (under the
    // pool's lock: keep it short).
    using observer = std::function<void(std::size_t threads, std::size_t retired)>;

    explicit blocking_pool(limits l, observer on_change = {});
    ~blocking_pool();  // join()
    blocking_pool(const blocking_pool&) = delete;
    blocking_pool& operator=(const blocking_pool&) = delete;

    // Runs `job` on a pool thread; nothing waits for it. An exception it throws is logged.
    template <typename F>
    void post(F job) {
        submit(std::make_unique<job_of<F>>(std::move(job)));
    }

    // Runs `job` on a pool thread and resumes the calling coroutine on its own executor with the job's
    // result, or its exception. The caller's executor counts the job as outstanding work meanwhile, so
    // its run() does not return under it.
    template <typename F>
    boost::asio::awaitable<std::invoke_result_t<F&>> run(F job) {
        using result = std::invoke_result_t<F&>;
        return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                           typename blocking_completion<result>::signature>(
            [this](auto resume, F fn) {
                auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(resume));
                post([handler = std::move(resume), job = std::move(fn), work = std::move(work)]() mutable {
                    std::exception_ptr error;
                    if constexpr (std::is_void_v<result>) {
                        try {
                            job();
                        } catch (...) {
                            error = std::current_exception();
                        }
                        boost::asio::post(work.get_executor(),
                                          [handler = std::move(handler), error]() mutable { std::move(handler)(error); });
                    } else {
                        std::optional<result> value;
                        try {
                            value.emplace(job());
                        } catch (...) {
                            error = std::current_exception();
                        }
                        boost::asio::post(work.get_executor(), [handler = std::move(handler), error,
                                                                value = std::move(value)]() mutable {
                            std::move(handler)(error, value ? std::move(*value) : result{});
                        });
                    }
                    work.reset();
                });
            },
            boost::asio::use_awaitable, std::move(job));
    }

    // Runs the work already handed over to its end, then the threads leave. No new work after it.
    void join();

    std::size_t threads() const;
    // Threads that left after their idle timeout, since the start.
    std::size_t threads_retired() const;

private:
    struct erased_job {
        virtual ~erased_job() = default;
        virtual void operator()() = 0;
    };
    template <typename F>
    struct job_of final : erased_job {
        explicit job_of(F f) : fn(std::move(f)) {}
        void operator()() override { fn(); }
        F fn;
    };
    struct idle_thread {
        std::condition_variable wake;
        std::unique_ptr<erased_job> handed;
    };

    void submit(std::unique_ptr<erased_job> j);
    void start_thread();  // mutex_ held
    void run_thread(std::list<std::thread>::iterator self);
    static void run_job(erased_job& j);

    const limits limits_;
    const observer on_change_;

    mutable std::mutex mutex_;
    std::condition_variable all_left_;
    std::deque<std::unique_ptr<erased_job>> queue_;  // jobs no idle thread could take
    std::vector<idle_thread*> idle_;          // last idle on top
    std::list<std::thread> threads_;
    std::thread left_;  // the last thread that left, joined by the next one to leave (or by join())
    std::size_t starting_ = 0;  // started, not yet looking for work
    std::size_t retired_ = 0;
    bool stopping_ = false;
};

}  // namespace idgate::gateway
