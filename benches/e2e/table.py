#!/usr/bin/env python3
"""The in-process table: criterion's median time per request for each
system and route (`cargo bench --bench in_process` writes them under
benches/e2e/target/criterion, or $CARGO_TARGET_DIR/criterion), and each
session layer's own time over its framework's floor (`none`,
`actix_none`) on the same route.

    cd benches/e2e && cargo bench --bench in_process && python3 table.py
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "target"))
AXUM = ["none", "sealed_session", "private_jar", "tower_sessions"]
ACTIX = ["actix_none", "actix_sealed_session", "actix_session"]
ROUTES = ["read", "write", "none"]


def median_ns(system, route):
    path = os.path.join(TARGET, "criterion", "request", system, route, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except OSError:
        return None


def fmt(ns):
    return "–" if ns is None else ("%.2f µs" % (ns / 1000) if ns >= 1000 else "%.0f ns" % ns)


def main():
    print("| framework | system | " + " | ".join("`/%s`" % r for r in ROUTES)
          + " | " + " | ".join("over floor `/%s`" % r for r in ROUTES) + " |")
    print("|---|---|" + "---|" * (2 * len(ROUTES)))
    missing = 0
    for framework, systems in (("axum", AXUM), ("actix-web", ACTIX)):
        floor = {r: median_ns(systems[0], r) for r in ROUTES}
        for system in systems:
            t = {r: median_ns(system, r) for r in ROUTES}
            missing += sum(v is None for v in t.values())
            over = [None if t[r] is None or floor[r] is None else t[r] - floor[r] for r in ROUTES]
            print("| %s | %s | %s | %s |" % (
                framework, system, " | ".join(fmt(t[r]) for r in ROUTES),
                " | ".join("–" if system == systems[0] else fmt(o) for o in over)))
    core = {"open": None, "seal": None}
    for op in ("open", "seal"):
        path = os.path.join(TARGET, "criterion", "core", op, "new", "estimates.json")
        try:
            with open(path) as f:
                core[op] = json.load(f)["median"]["point_estimate"]
        except OSError:
            pass
    if core["open"] is not None and core["seal"] is not None:
        print("\ncore: open %s, seal %s (the typical session, `Sessions::open` from its Cookie "
              "header, `Sessions::seal` to Set-Cookie)" % (fmt(core["open"]), fmt(core["seal"])))
        for framework, ours, floor in (("axum", "sealed_session", "none"),
                                       ("actix-web", "actix_sealed_session", "actix_none")):
            own = []
            for route, spent in (("read", core["open"]), ("write", core["open"] + core["seal"]),
                                 ("none", 0)):
                a, b = median_ns(ours, route), median_ns(floor, route)
                if a is not None and b is not None:
                    own.append("`/%s` %s" % (route, fmt(a - b - spent)))
            print("%s layer's own time (over the floor, less open and seal): %s"
                  % (framework, ", ".join(own)))
    if missing:
        print("\n%d figures missing: run `cargo bench --bench in_process` first" % missing,
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
