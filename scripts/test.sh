#!/usr/bin/env bash
# Runs every check the project has: formatting, lints, the licence
# allowlist and all tests. Installs the cargo tools it needs when they are
# missing. Tests that read the public capture corpus run when
# WIRETRUST_CORPUS names it and report themselves skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    rustup component add rustfmt clippy
fi
if ! command -v cargo-deny >/dev/null 2>&1; then
    echo "installing cargo-deny (licence, duplicate and source checks) ..."
    cargo install --locked cargo-deny@0.18.3
fi

# Live capture (`watch --interface`) links libpcap. Install its headers
# when they are missing and this user can; without them the live-capture
# code is left out of the build and its test.
features=""
if [ ! -e /usr/include/pcap.h ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing libpcap-dev (live capture) ..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libpcap-dev >/dev/null ||
        echo "could not install libpcap-dev; live capture is not tested"
fi
if [ -e /usr/include/pcap.h ]; then
    features="--features live"
else
    echo "libpcap headers not found: live capture is not built or tested"
fi

if [ -n "${WIRETRUST_CORPUS:-}" ]; then
    echo "corpus: $WIRETRUST_CORPUS"
else
    echo "corpus: WIRETRUST_CORPUS is unset; tests that need the public captures will be skipped"
fi

cargo fmt --all --check
# shellcheck disable=SC2086 # $features is empty or one flag and its value
cargo clippy --workspace --all-targets --locked $features -- -D warnings
cargo deny check licenses bans sources
# shellcheck disable=SC2086
cargo test --workspace --locked $features
