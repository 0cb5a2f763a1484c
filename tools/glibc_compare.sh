#!/usr/bin/env bash
# The same benches/ops.rs binary under this machine's glibc and under
# Debian 13's (glibc 2.41, which serves getrandom from the kernel's vDSO on
# Linux 6.11 and later), in CPU time per operation (tools/cpu_time.sh):
# what the OS nonce costs on current systems.
#
#   tools/glibc_compare.sh [DIR]      # DIR: a Debian 13 root (default /tmp/trixie)
#
# Makes DIR with `debootstrap --variant=minbase trixie DIR` when it is
# missing (Debian's packages must be reachable; needs root). Passes
# RUSTFLAGS through; the table of issue 16 is with
# RUSTFLAGS='--cfg poly1305_backend="soft"'. Needs `perf` and `debootstrap`.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/trixie}
if [ ! -x "$dir/usr/bin/ldd" ]; then
  command -v debootstrap >/dev/null || { apt-get update -q && apt-get install -y -q debootstrap; }
  debootstrap --variant=minbase trixie "$dir" http://deb.debian.org/debian
fi
ops="seal open seal_open"
systems="sealed_session cookie_private"
sizes="session 256"
echo "== host: $(ldd --version | head -1)"
tools/cpu_time.sh "$ops" "$systems" "$sizes"
echo "== Debian 13 root"
CHROOT="$dir" tools/cpu_time.sh "$ops" "$systems" "$sizes"
