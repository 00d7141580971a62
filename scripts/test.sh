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
    echo "installing cargo-deny (licence and advisory checks) ..."
    cargo install --locked cargo-deny@0.18.3
fi

if [ -n "${WIRETRUST_CORPUS:-}" ]; then
    echo "corpus: $WIRETRUST_CORPUS"
else
    echo "corpus: WIRETRUST_CORPUS is unset; tests that need the public captures will be skipped"
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo deny check licenses bans sources
cargo test --workspace --locked
