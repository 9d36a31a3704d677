#!/usr/bin/env bash
# Installs the Debian 12 packages idgate needs. Idempotent; quick when everything is already there. Run as
# root.
#   tools/install-deps.sh          build and run idgate (README command 1)
#   tools/install-deps.sh --test   also what the test suite and the benchmarks use (README command 2)
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  # Boost 1.81 (Debian's default 1.74 has no Boost.JSON)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-test1.81-dev libboost-system1.81-dev
  # persistence: SOCI with its SQLite and PostgreSQL backends (their headers need libpq-dev)
  libsoci-dev libsqlite3-dev libpq-dev
  # SAML signatures (and DEFLATE for the redirect binding), OIDC, configuration files
  libxmlsec1-dev libxml2-dev libssl-dev zlib1g-dev liboauth2-dev libcjose-dev libjansson-dev libyaml-cpp-dev
  # password hashing (Argon2id), invitation mail over SMTP, QR codes for MFA enrolment
  libargon2-dev libcurl4-openssl-dev libqrencode-dev
  # curl for the quickstart
  curl
)
if [ "${1:-}" = "--test" ]; then
  packages+=(
    # a real PostgreSQL for the tests, wrk for the benchmarks, openssl for test keys, clang for the
    # libFuzzer target (with its runtime, a "Recommends" of clang), Debian's chromium for web pages
    postgresql wrk openssl clang libclang-rt-14-dev chromium
  )
  # The end-to-end tests' identity providers (npm packages, tests/e2e) run on Node.js 18 or later: Debian's,
  # unless the machine already has a Node (from another source, which Debian's npm would conflict with).
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then packages+=(nodejs npm); fi
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
