#!/usr/bin/env bash
# CPU time per operation, for timings on a shared machine: `perf stat -e
# task-clock` counts only the time this process is on a core, so other
# processes taking the cores do not inflate it (cache contention still can).
# Each figure is the least of three runs of N operations of benches/ops.rs,
# minus a run with none.
#
#   tools/cpu_time.sh                       # the default build
#   RUSTFLAGS='--cfg poly1305_backend="soft"' tools/cpu_time.sh
#
# Optional arguments narrow the run: OPS SYSTEMS SIZES (space-separated
# lists in quotes), as for tools/callgrind_table.sh. Needs `perf`.
#
# CHROOT=DIR runs the same binary inside the root file system DIR (its C
# library, the host's kernel): tools/glibc_compare.sh uses it to compare
# glibc versions.
set -euo pipefail
cd "$(dirname "$0")/.."
ops=${1:-"seal open seal_open"}
systems=${2:-"sealed_session floor_v1 floor cookie_private"}
sizes=${3:-"session 64 256 1024 3000"}
n=${ITERS:-20000}
exe=$(cargo bench --bench ops --no-run ${FEATURES:+--features "$FEATURES"} 2>&1 | sed -n 's/.*Executable.*(\(.*\))/\1/p' | tail -1)
[ -x "$exe" ] || { echo "could not build benches/ops.rs" >&2; exit 1; }
run=("$exe")
if [ -n "${CHROOT:-}" ]; then
  cp "$exe" "$CHROOT/tmp/ops"
  run=(chroot "$CHROOT" /tmp/ops)
  echo "in $CHROOT: $(chroot "$CHROOT" /usr/bin/ldd --version | head -1)"
fi
msec() { perf stat -x, -e task-clock "${run[@]}" "$@" 2>&1 >/dev/null | awk -F, '/task-clock/{print $1}'; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %-15s %8s %10s\n' op system size ns/op
for op in $ops; do
  for system in $systems; do
    for size in $sizes; do
      [ "$op" = seal_open ] && [ "$size" != session ] && continue
      best=
      for _ in 1 2 3; do
        zero=$(msec "$op" "$system" "$size" 0)
        full=$(msec "$op" "$system" "$size" "$n")
        ns=$(awk -v f="$full" -v z="$zero" -v n="$n" 'BEGIN{printf "%d", (f - z) * 1e6 / n}')
        if [ -z "$best" ] || [ "$ns" -lt "$best" ]; then best=$ns; fi
      done
      printf '%-10s %-15s %8s %10d\n' "$op" "$system" "$size" "$best"
    done
  done
done
