#!/usr/bin/env bash
# Fuzz smoke test, called by .ci/run: keeps fuzz/ building and its seeds
# current, and runs every target for FUZZ_SECONDS (default 40) each.
# On 2 cores this takes about FUZZ_SECONDS x targets plus 2-3 minutes of
# builds (and a few minutes once to install cargo-fuzz): with 5 targets,
# 200 s of fuzzing, about 5 minutes in all. Lower FUZZ_SECONDS if a target
# is added, so the step stays near 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
source fuzz/common.sh

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

echo "--- fuzz crate: rustfmt, clippy (its own workspace)"
cargo fmt --manifest-path fuzz/Cargo.toml --check
# Without the default `libfuzzer` feature nothing compiles libFuzzer's C++.
cargo clippy --manifest-path fuzz/Cargo.toml --no-default-features --all-targets \
    -- -D warnings

echo "--- seeds: every named seed still gives the outcome its name promises"
cargo run --manifest-path fuzz/Cargo.toml --no-default-features --quiet \
    --example seeds -- check

echo "--- build (sanitizer: $FUZZ_SANITIZER)"
fuzz_build

echo "--- run each target for ${FUZZ_SECONDS:-40} s"
fuzz_run_all "${FUZZ_SECONDS:-40}"
