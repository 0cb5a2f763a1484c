#!/usr/bin/env python3
"""Prints the comparison tables from the last `cargo bench --bench compare`.

Reads criterion's estimates under target/criterion (or $CARGO_TARGET_DIR;
the median of each benchmark) and prints Markdown tables, one for seal and
one for open: sizes down, systems across, and this crate's time relative to
the floor and to the floor on v1-sized values.

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
SYSTEMS = ["sealed_session", "cookie_private", "floor", "floor_v1"]
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
    for op in ("seal", "open"):
        head = [op] + SYSTEMS + ["ours / floor", "ours / floor_v1"]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for size in SIZES:
            values = [median_ns(op, s, size) for s in SYSTEMS]
            label = "typical session" if size == "session" else f"{size} B"
            cells = [fmt(v) for v in values]
            cells += [ratio(values[0], values[2]), ratio(values[0], values[3])]
            print("| " + " | ".join([label] + cells) + " |")
        print()
    both = [median_ns("seal_open", s, "session") for s in SYSTEMS]
    if any(v is not None for v in both):
        print("| seal + open | " + " | ".join(SYSTEMS) + " |")
        print("|" + "---|" * (len(SYSTEMS) + 1))
        print("| typical session | " + " | ".join(fmt(v) for v in both) + " |")


if __name__ == "__main__":
    main()
