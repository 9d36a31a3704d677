// SPDX-License-Identifier: AGPL-3.0-or-later
// HTTPS: Entra ID and Okta push SCIM over TLS 1.2+ only.
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/test/unit_test.hpp>

#include "gateway_process.hpp"
#include "http_client.hpp"

using namespace idgate::test;
namespace ssl = net::ssl;

namespace {

// A throwaway self-signed certificate for 127.0.0.1, made with the openssl command line.
struct test_certificate {
    std::filesystem::path dir = make_temp_dir("tls");
    std::string cert = (dir / "cert.pem").string();
    std::string key = (dir / "key.pem").string();
    test_certificate() {
        const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                                "-addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert +
                                " >/dev/null 2>&1";
        BOOST_TEST_REQUIRE(std::system(cmd.c_str()) == 0, "openssl could not make a test certificate");
    }
    ~test_certificate() { std::filesystem::remove_all(dir); }
};

// Connects with TLS limited to [min, max] and the test certificate as the only trust anchor.
int https_get(unsigned short port, const std::string& ca_file, int min_version, int max_version) {
    net::io_context ioc;
    ssl::context ctx(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), min_version);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
    // OpenSSL 3 keeps TLS 1.0/1.1 behind security level 0; lower it so the client can really offer them.
    SSL_CTX_set_security_level(ctx.native_handle(), 0);
    ctx.load_verify_file(ca_file);
    ctx.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    beast::get_lowest_layer(stream).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    stream.handshake(ssl::stream_base::client);
    http::request<http::empty_body> req{http::verb::get, "/healthz", 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return static_cast<int>(res.result_int());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls)

BOOST_AUTO_TEST_CASE(serves_https_with_tls_1_2_and_1_3_only) {
    test_certificate cert;
    gateway_process gw("  tls: {certificate_file: " + cert.cert + ", private_key_file: " + cert.key + "}\n");
    BOOST_TEST(https_get(gw.port(), cert.cert, TLS1_2_VERSION, TLS1_3_VERSION) == 200);
    BOOST_TEST(https_get(gw.port(), cert.cert, TLS1_2_VERSION, TLS1_2_VERSION) == 200);
    BOOST_CHECK_THROW(https_get(gw.port(), cert.cert, TLS1_VERSION, TLS1_1_VERSION), boost::system::system_error);
    // Plain HTTP on the TLS port gets nothing useful back.
    BOOST_CHECK_THROW(call(gw.port(), http::verb::get, "/healthz"), boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(unreadable_certificate_stops_start_up_with_a_clear_message) {
    const auto dir = make_temp_dir("tlsbad");
    const auto path = (dir / "idgate.yaml").string();
    std::ofstream(path) << "server: {port: 0, tls: {certificate_file: /nonexistent/cert.pem, private_key_file: "
                           "/nonexistent/key.pem}}\nstorage: {sqlite: {path: "
                        << (dir / "x.db").string() << "}}\n";
    const std::string cmd = std::string(IDGATE_BINARY) + " serve --config " + path + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[512];
    while (const auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    const int status = ::pclose(p);
    BOOST_TEST(WEXITSTATUS(status) == 1);
    BOOST_TEST(out.find("cannot load TLS certificate '/nonexistent/cert.pem'") != std::string::npos, out);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
