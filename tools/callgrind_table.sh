#!/usr/bin/env bash
# Instructions per operation for every bench combination, counted by
# valgrind's callgrind: stable on a loaded machine, unlike timings.
#
#   tools/callgrind_table.sh                     # the default build
#   RUSTFLAGS='-C target-cpu=x86-64-v3' tools/callgrind_table.sh
#   FEATURES=simd-base64 tools/callgrind_table.sh
#
# Optional arguments narrow the run: OPS SYSTEMS SIZES (space-separated
# lists in quotes), e.g. tools/callgrind_table.sh "seal" "floor" "64 256".
# valgrind does not run AVX-512 code: builds with target-cpu=native on an
# AVX-512 machine must be timed with criterion instead.
set -euo pipefail
cd "$(dirname "$0")/.."
ops=${1:-"seal open seal_open"}
systems=${2:-"sealed_session cookie_private floor"}
sizes=${3:-"session 64 256 1024 3000"}
iters=${ITERS:-2000}
exe=$(cargo bench --bench ops --no-run ${FEATURES:+--features "$FEATURES"} 2>&1 | sed -n 's/.*Executable.*(\(.*\))/\1/p' | tail -1)
[ -x "$exe" ] || { echo "could not build benches/ops.rs" >&2; exit 1; }
printf '%-10s %-15s %8s %12s\n' op system size instr/op
for op in $ops; do
  for system in $systems; do
    for size in $sizes; do
      [ "$op" = seal_open ] && [ "$size" != session ] && continue
      out=$(mktemp)
      valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
        --toggle-collect='ops::measured*' "$exe" "$op" "$system" "$size" "$iters" >/dev/null 2>&1
      total=$(sed -n 's/^summary: //p' "$out")
      rm -f "$out"
      printf '%-10s %-15s %8s %12d\n' "$op" "$system" "$size" $((total / iters))
    done
  done
done
