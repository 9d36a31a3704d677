#!/usr/bin/env bash
# Fails when a third-party header is included outside the module that owns it (README "Architecture"):
# the include fence that keeps library types behind their adapters. tools/test.sh runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
# Every C++ file of the project (works in a clone and in an unpacked archive alike).
sources() { find core schema store scim accounts mapping provisioning oidc saml gateway bench tests -name '*.cpp' -o -name '*.hpp' | sort; }
fence() {  # fence <header prefix> <allowed path regex>
  local hits
  hits=$(sources | grep -Ev "$2" | xargs grep -ln "#include <$1" 2>/dev/null || true)
  if [ -n "$hits" ]; then
    echo "<$1...> is included outside its module:" $hits
    status=1
  fi
}
fence 'soci/'        '^(store/src/|tests/store/)'
fence 'boost/beast'  '^(gateway/src/(server|beast_src)\.cpp|bench/|tests/support/|tests/integration/)'
fence 'boost/asio'   '^(gateway/src/(server|beast_src)\.cpp|gateway/src/(pipelined_reads|blocking_pool)\.(hpp|cpp)|tests/unit/blocking_pool_test\.cpp|bench/|tests/support/|tests/integration/)'
fence 'argon2.h'     '^accounts/src/password\.cpp$'
fence 'curl/'        '^(accounts/src/smtp_mailer|saml/src/metadata_fetch)\.cpp$'
fence 'qrencode.h'   '^accounts/src/qr\.cpp$'
fence 'yaml-cpp'     '^(core/include/core/yaml_reader\.hpp|gateway/src/config\.cpp|mapping/src/file\.cpp)$'
fence 'xmlsec/'       '^(saml/src/response\.cpp|tests/support/saml_signing\.hpp|bench/saml_acs_bench\.cpp)$'
fence 'libxml/'      '^(saml/src/response\.cpp|tests/support/saml_signing\.hpp|bench/saml_acs_bench\.cpp)$'
fence 'oauth2/'      '^oidc/src/liboauth2_adapter\.cpp$'
fence 'cjose/'       '^oidc/src/liboauth2_adapter\.cpp$'
fence 'jansson'      '^oidc/src/liboauth2_adapter\.cpp$'
fence 'libpq'        '^(store/src/pg_prepared\.(hpp|cpp)|store/src/pg_user_reader\.cpp|tests/integration/(main_postgres|pipelined_reads_test)\.cpp)$'
fence 'dlfcn.h'      '^core/src/adapter\.cpp$'
fence 'openssl/'     '^(core/src/crypto\.cpp|gateway/src/server\.cpp|tests/integration/tls_test\.cpp|bench/id_token_bench\.cpp|oidc/src/liboauth2_adapter\.cpp|saml/src/logout\.cpp)$'
# Protocol modules never include the gateway.
hits=$(sources | grep -E '^(core|schema|store|scim|accounts|mapping|provisioning|oidc|saml)/' | xargs grep -ln '#include "gateway/' 2>/dev/null || true)
if [ -n "$hits" ]; then echo "modules include the gateway:" $hits; status=1; fi
# Mapping rules are pure: no storage, no protocol module.
hits=$(sources | grep -E '^mapping/' | xargs grep -lE '#include "(store|scim|accounts)/' 2>/dev/null || true)
if [ -n "$hits" ]; then echo "mapping is not pure:" $hits; status=1; fi
# The SCIM module asks the provisioning module through scim::identity_gate; it never includes it.
hits=$(sources | grep -E '^scim/' | xargs grep -l '#include "provisioning/' 2>/dev/null || true)
if [ -n "$hits" ]; then echo "scim includes provisioning:" $hits; status=1; fi
[ $status -eq 0 ] && echo "include boundaries: ok"
exit $status
