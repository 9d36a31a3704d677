// SPDX-License-Identifier: AGPL-3.0-or-later
// A minimal Beast HTTP/1.1 server: the ceiling idgate's router and middleware are measured against.
// It answers GET /healthz and GET /api/v1/version with the same status, headers and body bytes as
// idgate (including a fresh 16-hex-digit X-Request-Id), and nothing else: no routing table, no metrics,
// no access log, no limits. Further PATH=FILE arguments serve FILE's bytes at PATH as
// application/scim+json (for SCIM's ServiceProviderConfig).
//   baseline_server PORT [PATH=FILE...]
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
constexpr auto nothrow = net::as_tuple(net::use_awaitable);

namespace {

std::string request_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t v = rng();
    std::string id(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) id[static_cast<std::size_t>(i)] = hex[v & 0xf];
    return id;
}

std::map<std::string, std::string, std::less<>> scim_bodies;  // filled before the first connection

net::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
        http::request<http::string_body> req;
        auto [ec, n] = co_await http::async_read(stream, buffer, req, nothrow);
        if (ec) co_return;
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::server, "idgate");
        res.set("X-Request-Id", request_id());
        res.set(http::field::content_type, "application/json");
        if (req.target() == "/healthz")
            res.body() = R"({"status":"ok"})";
        else if (req.target() == "/api/v1/version")
            res.body() = R"({"name":"idgate","version":"0.1.0"})";
        else if (const auto it = scim_bodies.find(std::string_view(req.target().data(), req.target().size()));
                 it != scim_bodies.end()) {
            res.set(http::field::content_type, "application/scim+json");
            res.body() = it->second;
        } else
            res.result(http::status::not_found);
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        auto [wec, wn] = co_await http::async_write(stream, res, nothrow);
        if (wec || !req.keep_alive()) co_return;
    }
}

net::awaitable<void> listen(tcp::acceptor& acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(nothrow);
        if (ec) co_return;
        net::co_spawn(acceptor.get_executor(), session(std::move(socket)), net::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: baseline_server PORT [PATH=FILE...]\n";
        return 2;
    }
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto eq = arg.find('=');
        std::ifstream in(arg.substr(eq + 1), std::ios::binary);
        std::ostringstream body;
        body << in.rdbuf();
        scim_bodies[arg.substr(0, eq)] = body.str();
    }
    net::io_context ioc(1);
    tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(argv[1]))});
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](auto, auto) { ioc.stop(); });
    net::co_spawn(ioc, listen(acceptor), net::detached);
    std::cout << "baseline listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
    ioc.run();
}
