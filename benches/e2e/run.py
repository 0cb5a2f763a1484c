#!/usr/bin/env python3
"""Requests per second over HTTP on loopback, each session system's app
(src/lib.rs) against the others, in one run.

Each server runs on one core (`taskset -c 0`, one thread), wrk on the other
(`taskset -c 1`, one thread, 16 connections), for --duration seconds per
route; every system and route is measured --reps times, interleaved, and
the table shows the median of the repetitions (single runs swing by about
20 %, so only medians of one run mean anything, and only as ratios).

    python3 benches/e2e/run.py                        # default build
    python3 benches/e2e/run.py --build soft           # --cfg poly1305_backend="soft"
    python3 benches/e2e/run.py --build v3             # -C target-cpu=x86-64-v3

Needs wrk (Debian's `wrk`) and taskset. Prints a Markdown table and
writes target/e2e/<build>.json.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
from e2e import HOST, Fatal, free_port, wait_until  # noqa: E402

BUILDS = {
    "default": "",
    "soft": '--cfg poly1305_backend="soft"',
    "v3": "-C target-cpu=x86-64-v3",
}
SYSTEMS = ["none", "sealed_session", "private_jar", "tower_sessions",
           "actix_none", "actix_sealed_session", "actix_session"]
ROUTES = ["read", "write", "none"]
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def build(setting, binary="server"):
    """Builds `binary` of this crate in release with the build setting's
    RUSTFLAGS (a target directory per setting) and returns its path."""
    env = dict(os.environ, RUSTFLAGS=BUILDS[setting],
               CARGO_TARGET_DIR=os.path.join(ROOT, "target", "e2e-" + setting))
    argv = ["cargo", "build", "--release", "--bin", binary, "--message-format=json-render-diagnostics"]
    done = subprocess.run(argv, cwd=HERE, env=env, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise Fatal("cargo build failed")
    for line in done.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") \
                and msg["target"]["name"] == binary:
            return msg["executable"]
    raise Fatal("no server executable")


class Server:
    def __init__(self, exe, system):
        self.port = free_port()
        self.proc = subprocess.Popen(["taskset", "-c", "0", exe, system, str(self.port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise Fatal("%s did not start" % system)
        self.base = "http://%s:%d" % (HOST, self.port)
        wait_until("%s to answer" % system, lambda: self.get("/none")[0] == 200, 10)

    def get(self, path, cookie=None):
        req = urllib.request.Request(self.base + path, headers={"Cookie": cookie} if cookie else {})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.headers.get_all("Set-Cookie") or []
        except urllib.error.HTTPError as e:
            return e.code, []
        except OSError:
            return None, []

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def wrk(server, route, cookie, args):
    argv = ["taskset", "-c", "1", "wrk", "-t1", "-c%d" % args.connections,
            "-d%ds" % args.duration, "--latency", "-H", "Cookie: " + cookie,
            server.base + "/" + route]
    out = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    lat = {}
    for pct, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        lat[pct] = float(value) * UNITS[unit]
    return {"rps": rps, "p50_ms": lat.get("50"), "p99_ms": lat.get("99"),
            "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(0) if errors else None}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", choices=sorted(BUILDS), default="default")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--duration", type=int, default=4)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--systems", default=",".join(SYSTEMS))
    p.add_argument("--routes", default=",".join(ROUTES))
    args = p.parse_args()
    systems = args.systems.split(",")
    routes = args.routes.split(",")
    exe = build(args.build)
    runs = {(s, r): [] for s in systems for r in routes}
    for rep in range(args.reps):
        for system in systems:
            server = Server(exe, system)
            try:
                status, set_cookies = server.get("/login")
                cookie = "; ".join(c.split(";")[0] for c in set_cookies) or "x=1"
                for route in routes:
                    status, _ = server.get("/" + route, cookie)
                    if status != 200:
                        raise Fatal("%s /%s answered %s with its own cookie" % (system, route, status))
                    result = wrk(server, route, cookie, args)
                    if result["non_2xx"] or result["socket_errors"]:
                        raise Fatal("%s /%s: %s" % (system, route, result))
                    runs[(system, route)].append(result)
                    print("rep %d %-22s %-5s %8.0f req/s  p50 %.3f ms  p99 %.3f ms"
                          % (rep + 1, system, route, result["rps"], result["p50_ms"], result["p99_ms"]),
                          file=sys.stderr, flush=True)
            finally:
                server.stop()
    os.makedirs(os.path.join(ROOT, "target", "e2e"), exist_ok=True)
    with open(os.path.join(ROOT, "target", "e2e", args.build + ".json"), "w") as f:
        json.dump({"build": args.build, "args": vars(args),
                   "runs": {"%s/%s" % k: v for k, v in runs.items()}}, f, indent=1)
    med = {k: {m: statistics.median(x[m] for x in v) for m in ("rps", "p50_ms", "p99_ms")}
           for k, v in runs.items()}
    print("build `%s`, %d × %d s per route, wrk -t1 -c%d, medians:\n"
          % (args.build, args.reps, args.duration, args.connections))
    print("| route | system | req/s | p50 ms | p99 ms | vs sealed-session |")
    print("|---|---|---|---|---|---|")
    for route in routes:
        for system in systems:
            m = med[(system, route)]
            ours = "actix_sealed_session" if system.startswith("actix") else "sealed_session"
            ratio = med[(ours, route)]["rps"] / m["rps"] if (ours, route) in med else None
            print("| %s | %s | %.1fk | %.3f | %.3f | %s |"
                  % (route, system, m["rps"] / 1000, m["p50_ms"], m["p99_ms"],
                     "%.2f×" % ratio if ratio else "–"))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fatal as e:
        print("e2e: %s" % e, file=sys.stderr)
        sys.exit(1)
