// SPDX-License-Identifier: AGPL-3.0-or-later
#include "gateway/cli.hpp"

int main(int argc, char** argv) { return idgate::gateway::run_cli(argc, argv); }

// GnuTLS is in this process only because libpq needs libldap, which links it (and libcurl's librtmp, in
// the adapters); idgate's own TLS is OpenSSL. Left alone, GnuTLS initialises itself in a constructor when
// it is loaded -- CPU detection, its ASN.1 trees, PKCS #11 -- for about 0.9 MB resident that nothing uses.
// The GnuTLS manual (§6.2.2, "Initialization") documents turning that off by defining this function in
// the program (its GNUTLS_SKIP_GLOBAL_INIT macro). libldap and librtmp call gnutls_global_init()
// themselves before they use GnuTLS, so they do not depend on the implicit call. Exported by the link
// (gateway/CMakeLists.txt) so that the library finds it.
extern "C" __attribute__((visibility("default"))) int _gnutls_global_init_skip() { return 1; }
