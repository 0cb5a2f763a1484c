#!/usr/bin/env python3
"""Instructions per in-process request for each system and route, and per
core open and seal, counted by callgrind (steady on a busy machine, unlike
times): `per_request SYSTEM ROUTE N` run with N and with 0, the difference
divided by N. Also each sealed-session layer's own instructions: its
route over its framework's floor, less the core open (and seal) the route
does.

    python3 benches/e2e/callgrind.py [--build default|soft|v3] [--n 200]
"""

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run import BUILDS, SYSTEMS, build  # noqa: E402

ROUTES = ["read", "write", "none"]


def count(exe, args):
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", exe] + args,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    m = re.search(r"Collected : (\d+)", out.stderr)
    if not m:
        raise SystemExit("no callgrind total for %s" % args)
    return int(m.group(1))


def per_op(exe, a, b, n):
    return (count(exe, [a, b, str(n)]) - count(exe, [a, b, "0"])) / n


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", choices=sorted(BUILDS), default="default")
    p.add_argument("--n", type=int, default=200)
    args = p.parse_args()
    exe = build(args.build, "per_request")
    core = {op: per_op(exe, "core", op, args.n) for op in ("open", "seal")}
    t = {(s, r): per_op(exe, s, r, args.n) for s in SYSTEMS for r in ROUTES}
    print("build `%s`, instructions per request (callgrind, %d requests):\n" % (args.build, args.n))
    print("| system | " + " | ".join("`/%s`" % r for r in ROUTES) + " |")
    print("|---|" + "---|" * len(ROUTES))
    for s in SYSTEMS:
        print("| %s | %s |" % (s, " | ".join("%.0f" % t[(s, r)] for r in ROUTES)))
    print("\ncore: open %.0f, seal %.0f" % (core["open"], core["seal"]))
    for ours, floor in (("sealed_session", "none"), ("actix_sealed_session", "actix_none")):
        spent = {"read": core["open"], "write": core["open"] + core["seal"], "none": 0}
        print("%s layer's own instructions: %s" % (ours, ", ".join(
            "`/%s` %.0f" % (r, t[(ours, r)] - t[(floor, r)] - spent[r]) for r in ROUTES)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
