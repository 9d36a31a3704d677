// SPDX-License-Identifier: AGPL-3.0-or-later
// The Beast adapter: sockets, TLS, HTTP parsing, timeouts, limits and graceful shutdown. Everything
// about *what* to answer is in the router; this file only moves bytes and enforces limits.
#include "gateway/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <array>
#include <list>
#include <mutex>
#include <random>
#include <thread>

#include "core/log.hpp"
#include "pipelined_reads.hpp"

namespace idgate::gateway {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
constexpr auto nothrow = net::as_tuple(net::use_awaitable);

core::method to_method(http::verb v) {
    switch (v) {
        case http::verb::get: return core::method::get;
        case http::verb::head: return core::method::head;
        case http::verb::post: return core::method::post;
        case http::verb::put: return core::method::put;
        case http::verb::patch: return core::method::patch;
        case http::verb::delete_: return core::method::del;
        case http::verb::options: return core::method::options;
        default: return core::method::other;
    }
}

// A request id unique enough to correlate logs (not a secret): 16 hex digits from a per-thread PRNG.
std::string new_request_id() {
    thread_local std::mt19937_64 rng{std::random_device{}() ^
                                     std::hash<std::thread::id>{}(std::this_thread::get_id())};
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t v = rng();
    std::string id(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) id[static_cast<std::size_t>(i)] = hex[v & 0xf];
    return id;
}

// A client-supplied X-Request-Id (from a reverse proxy) is kept when it is short and harmless, so one
// id follows the request through every hop; anything else is replaced.
bool acceptable_request_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
    return true;
}

// Per-connection state that the shutdown logic may touch; only ever accessed on the connection's strand.
struct connection_control {
    explicit connection_control(net::any_io_executor e) : executor(std::move(e)) {}
    net::any_io_executor executor;
    bool alive = true;
    bool idle = true;      // waiting for the next request: safe to close at shutdown
    bool closing = false;  // close after the response being produced
    std::function<void()> close;
};

}  // namespace

struct server::impl {
    impl(const server_config& c, const router& r, metrics& m, bool log_access)
        : config(c),
          routes(r),
          stats(m),
          access_log(log_access),
          ioc(c.io_threads),
          blocking({static_cast<std::size_t>(c.blocking_threads), static_cast<std::size_t>(c.blocking_min_threads),
                    c.blocking_idle_timeout},
                   [&m](std::size_t threads, std::size_t retired) {
                       m.blocking_threads.store(static_cast<std::int64_t>(threads));
                       m.blocking_threads_retired.store(retired);
                   }),
          acceptor(ioc),
          signals(ioc, SIGINT, SIGTERM),
          hangups(ioc) {}

    const server_config& config;
    const router& routes;
    metrics& stats;
    bool access_log;

    net::io_context ioc;
    blocking_pool blocking;
    std::optional<ssl::context> tls;
    tcp::acceptor acceptor;
    net::signal_set signals;
    net::signal_set hangups;  // SIGHUP, when someone registered a reload
    std::function<void()> on_hangup;
    std::atomic<bool> stopping{false};

    void wait_for_hangup() {
        hangups.async_wait([this](const boost::system::error_code& ec, int) {
            if (ec || stopping) return;
            blocking.post([this] {
                try {
                    on_hangup();
                } catch (const std::exception& e) {
                    core::log::warn("SIGHUP reload failed", {{"error", e.what()}});
                }
            });
            wait_for_hangup();
        });
    }

    std::mutex connections_mutex;
    std::list<std::shared_ptr<connection_control>> connections;
    // One-user reads without the blocking pool (use_pipelined_reads); null: they use the pool. Declared
    // after the I/O context and the pool, so it goes first.
    std::unique_ptr<pipelined_reads> user_reads;

    // -- listening ---------------------------------------------------------------------------------

    std::uint16_t listen() {
        if (config.tls.enabled()) {
            tls.emplace(ssl::context::tls_server);
            // TLS 1.2 is the floor: Entra ID and Okta require it, and older versions are broken.
            SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
            tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                             ssl::context::single_dh_use);
            boost::system::error_code ec;
            tls->use_certificate_chain_file(config.tls.certificate_file, ec);
            if (ec) throw std::runtime_error("cannot load TLS certificate '" + config.tls.certificate_file + "': " + ec.message());
            tls->use_private_key_file(config.tls.private_key_file, ssl::context::pem, ec);
            if (ec) throw std::runtime_error("cannot load TLS private key '" + config.tls.private_key_file + "': " + ec.message());
        }
        boost::system::error_code ec;
        const auto address = net::ip::make_address(config.address, ec);
        if (ec) throw std::runtime_error("server.address '" + config.address + "' is not an IP address");
        const tcp::endpoint endpoint{address, config.port};
        acceptor.open(endpoint.protocol());
        acceptor.set_option(net::socket_base::reuse_address(true));
        acceptor.bind(endpoint, ec);
        if (ec)
            throw std::runtime_error("cannot listen on " + config.address + ":" + std::to_string(config.port) + ": " +
                                     ec.message());
        acceptor.listen(net::socket_base::max_listen_connections);
        return acceptor.local_endpoint().port();
    }

    // -- accepting ---------------------------------------------------------------------------------

    net::awaitable<void> accept_loop() {
        for (;;) {
            // A connection's handlers must not run concurrently. With one I/O thread that holds by
            // construction; with several, each connection gets a strand.
            const net::any_io_executor executor = config.io_threads > 1
                                                      ? net::any_io_executor(net::make_strand(ioc))
                                                      : net::any_io_executor(ioc.get_executor());
            auto [ec, socket] = co_await acceptor.async_accept(executor, nothrow);
            if (stopping) co_return;
            if (ec) {
                if (ec == net::error::operation_aborted) co_return;
                // Out of file descriptors and the like: say so and breathe instead of spinning.
                core::log::warn("accept failed", {{"error", ec.message()}});
                net::steady_timer pause(ioc, std::chrono::milliseconds(50));
                co_await pause.async_wait(nothrow);
                continue;
            }
            if (stats.open_connections.load() >= config.max_connections) {
                stats.rejected_connections.fetch_add(1);
                boost::system::error_code ignored;
                socket.close(ignored);
                continue;
            }
            net::co_spawn(executor, run_connection(std::move(socket)), [](std::exception_ptr e) {
                // A null exception_ptr is a normal end (Boost 1.81's example rethrew it unchecked).
                if (!e) return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    core::log::error("connection failed", {{"error", ex.what()}});
                }
            });
        }
    }

    net::awaitable<void> run_connection(tcp::socket socket) {
        stats.open_connections.fetch_add(1);
        boost::system::error_code ec;
        const auto remote = socket.remote_endpoint(ec);
        const std::string client = ec ? std::string("unknown") : remote.address().to_string();
        auto control = std::make_shared<connection_control>(socket.get_executor());
        {
            std::lock_guard lock(connections_mutex);
            connections.push_back(control);
        }
        beast::tcp_stream stream(std::move(socket));
        if (tls) {
            beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *tls);
            control->close = [&secure] {
                boost::system::error_code ignored;
                beast::get_lowest_layer(secure).socket().close(ignored);
            };
            beast::get_lowest_layer(secure).expires_after(config.header_timeout);
            auto [hs] = co_await secure.async_handshake(ssl::stream_base::server, nothrow);
            if (!hs) {
                co_await serve(secure, *control, client);
                beast::get_lowest_layer(secure).expires_after(std::chrono::seconds(2));
                co_await secure.async_shutdown(nothrow);
            }
        } else {
            control->close = [&stream] {
                boost::system::error_code ignored;
                stream.socket().close(ignored);
            };
            co_await serve(stream, *control, client);
            stream.socket().shutdown(tcp::socket::shutdown_send, ec);
        }
        control->alive = false;
        {
            std::lock_guard lock(connections_mutex);
            connections.remove(control);
        }
        stats.open_connections.fetch_sub(1);
    }

    // -- one connection: read a request, answer it, repeat while keep-alive --------------------------

    template <typename Stream>
    net::awaitable<void> serve(Stream& stream, connection_control& control, const std::string& client) {
        beast::flat_buffer buffer;
        bool first = true;
        for (;;) {
            auto& lowest = beast::get_lowest_layer(stream);
            control.idle = true;
            if (control.closing || stopping) co_return;
            if (buffer.size() == 0) {
                // Wait for the first byte of the next request: the idle timeout applies between
                // requests, the (shorter) header timeout to a connection that has sent nothing yet.
                lowest.expires_after(first ? config.header_timeout : config.idle_timeout);
                auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), nothrow);
                if (ec) co_return;
                buffer.commit(n);
            }
            control.idle = false;
            first = false;

            http::request_parser<http::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(config.header_limit_bytes));
            parser.body_limit(boost::none);  // the route decides, below
            // Most request heads arrive whole in that first read: parse what is buffered before going
            // back to the socket (saves two trips through the reactor per request).
            boost::system::error_code head_ec;
            while (buffer.size() > 0 && !parser.is_header_done()) {
                const auto used = parser.put(buffer.data(), head_ec);
                buffer.consume(used);
                if (head_ec == http::error::need_more) {
                    head_ec = {};
                    break;
                }
                if (head_ec || used == 0) break;
            }
            if (!head_ec && !parser.is_header_done()) {
                // The whole head must arrive within the header timeout, however slowly it trickles in.
                lowest.expires_after(config.header_timeout);
                auto [read_ec, head_bytes] = co_await http::async_read_header(stream, buffer, parser, nothrow);
                (void)head_bytes;
                head_ec = read_ec;
            }
            const auto started = std::chrono::steady_clock::now();
            std::string request_id = new_request_id();
            if (head_ec) {
                if (head_ec == http::error::header_limit)
                    co_await write_error(stream, core::http_error(431, "headers_too_large",
                                                                  "the request head exceeds " +
                                                                      std::to_string(config.header_limit_bytes) +
                                                                      " bytes"),
                                         request_id, started);
                else if (head_ec != beast::error::timeout && head_ec != http::error::end_of_stream &&
                         head_ec != net::error::eof && head_ec != net::error::operation_aborted)
                    co_await write_error(stream,
                                         core::http_error(400, "bad_request", "malformed HTTP request: " + head_ec.message()),
                                         request_id, started);
                co_return;  // a timed-out (slow-header) client is simply disconnected
            }

            auto& head = parser.get();
            if (auto it = head.find("x-request-id"); it != head.end() && acceptable_request_id(it->value()))
                request_id = std::string(it->value());

            core::request req;
            req.verb = to_method(head.method());
            req.request_id = request_id;
            req.client_address = client;
            req.json_max_depth = config.json_max_depth;
            const auto target = head.target();
            if (!target.empty() && target.front() == '/' && target.find_first_of("?%") == std::string_view::npos &&
                target.size() < 2048) {
                req.path = std::string(target);  // nothing to decode: the common case, without a parse
            } else {
                auto url = boost::urls::parse_origin_form(target);
                if (!url) {
                    co_await write_error(stream,
                                         core::http_error(400, "bad_request", "the request target is not a valid path"),
                                         request_id, started);
                    co_return;
                }
                req.path = url->path();
                req.raw_query = std::string(url->encoded_query());
                for (auto p : url->params()) req.query.emplace_back(p.key, p.value);
            }

            auto match = routes.find(req.verb, req.path);
            const route* r = match.found;
            const error_style style = r ? r->options.errors : error_style::json;
            const std::size_t body_limit = r && r->options.body_limit ? r->options.body_limit : config.body_limit_bytes;
            if (parser.content_length() && *parser.content_length() > body_limit) {
                // Refuse before reading the body: the client learns the limit, we spend nothing on it.
                co_await write_error(stream,
                                     core::http_error(413, "body_too_large",
                                                      "the request body exceeds the limit of " +
                                                          std::to_string(body_limit) + " bytes for this endpoint")
                                         .with_scim_type(""),
                                     request_id, started, r, style);
                co_return;
            }
            parser.body_limit(body_limit);
            boost::system::error_code body_ec;
            if (!parser.is_done()) {
                lowest.expires_after(config.body_timeout);
                auto [read_ec, body_bytes] = co_await http::async_read(stream, buffer, parser, nothrow);
                (void)body_bytes;
                body_ec = read_ec;
            }
            if (body_ec) {
                if (body_ec == http::error::body_limit)
                    co_await write_error(stream,
                                         core::http_error(413, "body_too_large",
                                                          "the request body exceeds the limit of " +
                                                              std::to_string(body_limit) + " bytes for this endpoint"),
                                         request_id, started, r, style);
                else if (body_ec != beast::error::timeout && body_ec != net::error::eof)
                    co_await write_error(stream, core::http_error(400, "bad_request", "malformed request body"),
                                         request_id, started, r, style);
                co_return;
            }

            auto message = parser.release();
            const bool keep_alive = message.keep_alive();
            for (const auto& field : message) {
                std::string name(field.name_string());
                for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                req.headers.emplace_back(std::move(name), std::string(field.value()));
            }
            req.body = std::move(message.body());

            core::response res;
            if (!r) {
                core::http_error e = match.status == 405
                                         ? core::http_error(405, "method_not_allowed",
                                                            std::string(core::to_string(req.verb)) +
                                                                " is not allowed here (allowed: " + match.allow + ")")
                                               .with_header("Allow", match.allow)
                                         : core::http_error(404, "not_found", "no such endpoint: " + req.path);
                res = render_error(e, style, request_id);
            } else {
                req.path_params = std::move(match.params);
                stats.in_flight.fetch_add(1);
                if (r->user_read && user_reads) {
                    res = co_await run_user_read(*r, req);
                } else if (r->options.where == execution::blocking) {
                    res = co_await run_blocking(*r, req);
                } else if (r->options.where == execution::io_thread_when_authenticated) {
                    if (auto quick = routes.dispatch_without_blocking(*r, req)) res = std::move(*quick);
                    else res = co_await run_blocking(*r, req);
                } else {
                    res = routes.dispatch(*r, req);
                }
                stats.in_flight.fetch_sub(1);
            }

            const bool again = keep_alive && !stopping && !control.closing;
            // Counted before the write, so a client that has its response also sees it in /metrics.
            const auto elapsed = record(r, res.status, started);
            const auto bytes_out = res.body.size();
            const bool ok = co_await write_response(stream, res, req.verb == core::method::head, again, request_id);
            log_access(r, req.verb, req.path, res.status, elapsed, request_id, client, bytes_out);
            if (!ok || !again) co_return;
        }
    }

    net::awaitable<core::response> run_blocking(const route& r, core::request& req) {
        if (stats.blocking_queue_depth.load() >= config.blocking_queue_limit) {
            stats.blocking_rejected.fetch_add(1);
            co_return render_error(core::http_error(503, "overloaded", "the server is overloaded; retry shortly")
                                       .with_header("Retry-After", "1"),
                                   r.options.errors, req.request_id);
        }
        stats.blocking_queue_depth.fetch_add(1);
        auto res = co_await blocking.run([&] { return routes.dispatch(r, req); });
        stats.blocking_queue_depth.fetch_sub(1);
        co_return res;
    }

    // A route with a one_user_read: the user is read on a pipelined connection and the answer made here,
    // on the I/O thread; anything that cannot go that way takes the blocking pool.
    net::awaitable<core::response> run_user_read(const route& r, core::request& req) {
        auto plan = routes.plan_user_read(r, req);
        if (auto* refused = std::get_if<core::response>(&plan)) co_return std::move(*refused);
        if (auto* key = std::get_if<store::user_key>(&plan)) {
            auto found = co_await user_reads->read(std::move(*key));
            if (found) co_return routes.answer_user_read(r, req, std::move(*found));
        }
        auto res = co_await run_blocking(r, req);
        co_return res;
    }

    template <typename Stream>
    net::awaitable<bool> write_response(Stream& stream, core::response& res, bool head_only, bool keep_alive,
                                        const std::string& request_id) {
        http::response<http::string_body> msg{static_cast<http::status>(res.status), 11};
        msg.set(http::field::server, "idgate");
        msg.set("X-Request-Id", request_id);
        if (!res.content_type.empty()) msg.set(http::field::content_type, res.content_type);
        for (const auto& [name, value] : res.headers) msg.set(name, value);
        msg.keep_alive(keep_alive);
        if (head_only) {
            msg.content_length(res.body.size());
        } else {
            msg.body() = std::move(res.body);
            msg.prepare_payload();
        }
        beast::get_lowest_layer(stream).expires_after(config.write_timeout);
        auto [ec, n] = co_await http::async_write(stream, msg, nothrow);
        co_return !ec;
    }

    template <typename Stream>
    net::awaitable<void> write_error(Stream& stream, const core::http_error& e, const std::string& request_id,
                                     std::chrono::steady_clock::time_point started, const route* r = nullptr,
                                     error_style style = error_style::json) {
        auto res = render_error(e, style, request_id);
        const auto elapsed = record(r, res.status, started);
        const auto bytes_out = res.body.size();
        co_await write_response(stream, res, false, false, request_id);
        log_access(r, core::method::other, {}, res.status, elapsed, request_id, {}, bytes_out);
        co_await linger(stream);
    }

    // A client still sending a body we refused would get a connection reset instead of our answer if we
    // closed at once (its unread bytes make the kernel send RST). So: stop sending, then read and discard
    // what keeps coming, bounded in bytes and time, before the connection closes (what nginx calls a
    // lingering close).
    template <typename Stream>
    net::awaitable<void> linger(Stream& stream) {
        auto& lowest = beast::get_lowest_layer(stream);
        boost::system::error_code ignored;
        if constexpr (std::is_same_v<Stream, beast::tcp_stream>) lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
        std::array<char, 16 * 1024> scratch;
        std::size_t drained = 0;
        lowest.expires_after(std::chrono::seconds(2));
        while (drained < 8 * 1024 * 1024) {
            auto [ec, n] = co_await stream.async_read_some(net::buffer(scratch), nothrow);
            if (ec) break;
            drained += n;
        }
    }

    std::chrono::steady_clock::duration record(const route* r, int status,
                                               std::chrono::steady_clock::time_point started) {
        const auto elapsed = std::chrono::steady_clock::now() - started;
        stats.record(r ? r->index : stats.unmatched_index(), status, elapsed);
        return elapsed;
    }

    void log_access(const route* r, core::method verb, std::string_view path, int status,
                    std::chrono::steady_clock::duration elapsed, const std::string& request_id,
                    std::string_view client, std::size_t bytes) {
        if (!access_log) return;
        // The path is logged without its query string: queries may carry filters with personal data.
        core::log::info("access", {{"request_id", request_id},
                                   {"method", core::to_string(verb)},
                                   {"route", r ? std::string_view(r->name) : std::string_view("unmatched")},
                                   {"path", path},
                                   {"status", status},
                                   {"duration_us", std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()},
                                   {"bytes_out", bytes},
                                   {"client", client}});
    }

    // -- shutdown ----------------------------------------------------------------------------------

    void begin_shutdown() {
        if (stopping.exchange(true)) return;
        core::log::info("shutting down: no new connections; finishing in-flight requests",
                        {{"grace_seconds", static_cast<std::int64_t>(config.shutdown_grace.count())}});
        boost::system::error_code ignored;
        acceptor.close(ignored);
        signals.cancel(ignored);
        hangups.cancel(ignored);
        close_connections(/*idle_only=*/true);
        net::co_spawn(ioc, drain(), net::detached);
    }

    void close_connections(bool idle_only) {
        std::lock_guard lock(connections_mutex);
        for (const auto& c : connections) {
            net::post(c->executor, [c, idle_only] {
                if (!c->alive) return;
                if (!idle_only || c->idle)
                    c->close();
                else
                    c->closing = true;
            });
        }
    }

    net::awaitable<void> drain() {
        const auto deadline = std::chrono::steady_clock::now() + config.shutdown_grace;
        net::steady_timer tick(ioc);
        while (stats.open_connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
            tick.expires_after(std::chrono::milliseconds(20));
            co_await tick.async_wait(nothrow);
        }
        if (stats.open_connections.load() > 0) {
            core::log::warn("shutdown grace period over: closing remaining connections",
                            {{"open", stats.open_connections.load()}});
            close_connections(false);
            tick.expires_after(std::chrono::milliseconds(200));
            co_await tick.async_wait(nothrow);
        }
        if (user_reads) user_reads->stop();
        ioc.stop();
    }
};

server::server(const server_config& config, const router& routes, metrics& stats, bool access_log)
    : impl_(std::make_unique<impl>(config, routes, stats, access_log)) {}

server::~server() = default;

std::uint16_t server::listen() { return impl_->listen(); }

void server::every(std::chrono::seconds interval, std::function<void()> job) {
    net::co_spawn(
        impl_->ioc,
        [this, interval, job = std::move(job)]() -> net::awaitable<void> {
            net::steady_timer timer(impl_->ioc);
            while (!impl_->stopping) {
                timer.expires_after(interval);
                auto [ec] = co_await timer.async_wait(nothrow);
                if (ec || impl_->stopping) co_return;
                co_await impl_->blocking.run([&job] {
                    try {
                        job();
                    } catch (const std::exception& e) {
                        core::log::warn("housekeeping job failed", {{"error", e.what()}});
                    } catch (...) {
                        core::log::warn("housekeeping job failed", {{"error", "unknown exception"}});
                    }
                });
            }
        },
        net::detached);
}

void server::on_sighup(std::function<void()> job) {
    impl_->on_hangup = std::move(job);
    impl_->hangups.add(SIGHUP);
    impl_->wait_for_hangup();
}

void server::use_pipelined_reads(std::function<std::unique_ptr<store::user_reader>()> open, std::size_t connections) {
    auto& s = *impl_;
    if (connections == 0) return;
    // With several I/O threads the connections are driven on one strand.
    const net::any_io_executor io = s.config.io_threads > 1 ? net::any_io_executor(net::make_strand(s.ioc))
                                                            : net::any_io_executor(s.ioc.get_executor());
    s.user_reads = std::make_unique<pipelined_reads>(io, s.blocking, std::move(open), connections, s.stats);
}

void server::run() {
    auto& s = *impl_;
    if (s.user_reads) s.user_reads->start();
    s.signals.async_wait([&s](const boost::system::error_code& ec, int) {
        if (!ec) s.begin_shutdown();
    });
    net::co_spawn(s.ioc, s.accept_loop(), net::detached);
    std::vector<std::thread> threads;
    for (int i = 1; i < s.config.io_threads; ++i) threads.emplace_back([&s] { s.ioc.run(); });
    s.ioc.run();
    for (auto& t : threads) t.join();
    // Blocking jobs that were started finish (their transactions commit or roll back) before we exit.
    s.blocking.join();
    core::log::info("shutdown complete");
    core::log::flush();
}

void server::request_shutdown() {
    net::post(impl_->ioc, [this] { impl_->begin_shutdown(); });
}

}  // namespace idgate::gateway
