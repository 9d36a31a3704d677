// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once
// A small synchronous HTTP/1.1 client for integration tests (Beast, loopback only).
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string>
#include <utility>
#include <vector>

namespace idgate::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct reply {
    int status = 0;
    std::string body;
    http::fields headers;
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : std::string(it->value());
    }
};

// One connection, reusable for several requests (keep-alive).
class http_client {
public:
    explicit http_client(unsigned short port) : stream_(ioc_) {
        stream_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    }

    reply request(http::verb verb, const std::string& target, const std::string& body = "",
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        http::request<http::string_body> req{verb, target, 11};
        req.set(http::field::host, "127.0.0.1");
        if (!body.empty()) {
            req.set(http::field::content_type, "application/json");  // unless the caller names another
            req.body() = body;
        }
        for (const auto& [k, v] : headers) req.set(k, v);
        req.prepare_payload();
        stream_.expires_after(std::chrono::seconds(30));
        http::write(stream_, req);
        return read_reply(verb == http::verb::head);
    }

    // A reply to HEAD announces a Content-Length but carries no body.
    reply read_reply(bool head = false) {
        http::response_parser<http::string_body> parser;
        parser.skip(head);
        http::read(stream_, buffer_, parser);
        auto res = parser.release();
        reply r;
        r.status = static_cast<int>(res.result_int());
        r.body = res.body();
        r.headers = res.base();
        return r;
    }

    beast::tcp_stream& stream() { return stream_; }

private:
    net::io_context ioc_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
};

inline reply call(unsigned short port, http::verb verb, const std::string& target, const std::string& body = "",
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    http_client c(port);
    return c.request(verb, target, body, headers);
}

}  // namespace idgate::test
