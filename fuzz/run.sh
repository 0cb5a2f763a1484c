#!/usr/bin/env bash
# Builds every fuzz target, runs each for SECONDS (default 600) one after
# another, and prints each target's final libFuzzer stats.
#
#   fuzz/run.sh [SECONDS]
#
# Environment:
#   FUZZ_TARGETS    targets to run, space-separated (default: all of
#                   `cargo fuzz list`)
#   FUZZ_SANITIZER  none (default; stable Rust) or address (see README.md)
#
# Exit status 1 if any target failed; its input is in fuzz/artifacts/TARGET/
# and its log in fuzz/target/logs/TARGET.log. New inputs stay in
# fuzz/corpus/TARGET/ (git keeps only the seed-* files).
set -euo pipefail
cd "$(dirname "$0")/.."
source fuzz/common.sh

seconds="${1:-600}"
fuzz_build
fuzz_run_all "$seconds"
