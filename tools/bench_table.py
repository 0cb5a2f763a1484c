#!/usr/bin/env python3
"""Prints the comparison table from the last `cargo bench --bench compare`.

Reads criterion's estimates under target/criterion (the median of each
benchmark) and prints a Markdown table: sizes down, systems across, seal and
open, with this crate's cost relative to the floor.

    cargo bench --bench compare && python3 tools/bench_table.py
"""

import json
import os
import sys

ROOT = os.path.join(
    os.environ.get("CARGO_TARGET_DIR")
    or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target"),
    "criterion",
)
SYSTEMS = ["sealed_session", "cookie_private", "floor"]
SIZES = ["session", "64", "256", "1024", "3000"]


def median_ns(group, system, size):
    path = os.path.join(ROOT, group, system, size, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except (OSError, KeyError, ValueError):
        return None


def fmt(ns):
    if ns is None:
        return "–"
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def ratio(ours, floor):
    if ours is None or floor is None:
        return "–"
    return f"{(ours / floor - 1) * 100:+.0f}%"


def main():
    if not os.path.isdir(ROOT):
        sys.exit("no target/criterion: run `cargo bench --bench compare` first")
    head = ["payload"]
    for op in ("seal", "open"):
        head += [f"{op}: {s}" for s in SYSTEMS] + [f"{op}: ours vs floor"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for size in SIZES:
        row = ["typical session" if size == "session" else f"{size} B"]
        for op in ("seal", "open"):
            values = [median_ns(op, s, size) for s in SYSTEMS]
            row += [fmt(v) for v in values] + [ratio(values[0], values[2])]
        print("| " + " | ".join(row) + " |")
    both = [median_ns("seal_open", s, "session") for s in SYSTEMS]
    if any(v is not None for v in both):
        print()
        print("| seal + open, typical session | " + " | ".join(SYSTEMS) + " |")
        print("|---|---|---|---|")
        print("| median | " + " | ".join(fmt(v) for v in both) + " |")


if __name__ == "__main__":
    main()
