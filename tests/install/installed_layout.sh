#!/usr/bin/env bash
# `cmake --install` puts the idgate executable in <prefix>/bin and its loadable adapters in
# <prefix>/<libdir>/idgate (core/adapter.hpp), and the installed idgate opens them from there -- not from
# the build tree -- also after the whole installation has been moved elsewhere.
# Usage: installed_layout.sh <cmake> <build dir> <adapter install dir, relative to the prefix>
set -euo pipefail
cmake=$1 build=$2 adapter_dir=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$cmake" --install "$build" --prefix "$work/staged" >/dev/null
test -x "$work/staged/bin/idgate" || { echo "no bin/idgate"; exit 1; }
for name in saml oidc smtp; do
  test -f "$work/staged/$adapter_dir/idgate_${name}_adapter.so" || { echo "no $adapter_dir/idgate_${name}_adapter.so"; exit 1; }
done
installed=$(cd "$work/staged" && find . -type f | sort | tr '\n' ' ')
[ "$installed" = "./bin/idgate ./$adapter_dir/idgate_oidc_adapter.so ./$adapter_dir/idgate_saml_adapter.so ./$adapter_dir/idgate_smtp_adapter.so " ] ||
  { echo "installed more or less than the executable and its three adapters: $installed"; exit 1; }

# Moved: only paths relative to the executable can still find the adapters.
mv "$work/staged" "$work/moved"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/idp.key" -out "$work/idp.crt" -days 2 -subj /CN=idp \
  >/dev/null 2>&1
cat >"$work/idgate.yaml" <<YAML
server: {address: 127.0.0.1, port: 8080, public_url: "https://idgate.example.com"}
storage: {type: sqlite, sqlite: {path: $work/idgate.db}}
sso:
  saml:
    - organization: acme
      connection: okta
      idp_entity_id: https://idp.example.com
      sso_url: https://idp.example.com/sso
      certificate_files: [$work/idp.crt]
YAML
# Checking a SAML connection's certificate opens the SAML adapter, which logs where it found it.
output=$("$work/moved/bin/idgate" check-config --config "$work/idgate.yaml" 2>&1) || { echo "$output"; exit 1; }
expected="\"path\":\"$work/moved/bin/"
if ! grep -F '"msg":"adapter loaded"' <<<"$output" | grep -F "$expected" | grep -qF "idgate_saml_adapter.so"; then
  echo "the SAML adapter was not loaded from the installation ($expected...):"
  echo "$output"
  exit 1
fi
echo "installed layout: ok"
