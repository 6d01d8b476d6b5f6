"""Is mlfilter's time linear in the size of its input? For each shape of hostile input, the time
of N and of 8N, and their ratio (8 when linear, 64 when quadratic), through check, fix_filter,
check_order_by and rendering; and the peak memory of checking the largest input.

    .venv/bin/python bench/bench_linear.py            # N = 2,000 units, about a minute
    .venv/bin/python bench/bench_linear.py --quick    # N = 500
    .venv/bin/python bench/bench_linear.py --size 20000

It prints and never fails: the tests assert no timings (docs/robustness.md has the figures).
A ratio above 16 is flagged `check`.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import mlfilter  # noqa: E402

SHAPES = {
    "valid AND chain": lambda n: " AND ".join(["metrics.a > 1"] * n),
    "stray ANDs": lambda n: "metrics.a > 1 " + "AND " * n,
    "garbage": lambda n: "#$%^ ,. ;" * n,
    "unclosed quotes": lambda n: "'a " * n,
    "long string": lambda n: "params.x = '" + "a\\" * (8 * n) + "'",
    "long key": lambda n: "params." + "k" * (16 * n) + " = 'x'",
    "huge integer": lambda n: "attributes.start_time > " + "1" * (16 * n),
    "comment openers": lambda n: "/*" * n,
    "deep parentheses": lambda n: "(" * n + "metrics.a > 1" + ")" * n,
    "many NOTs": lambda n: "NOT " * n + "metrics.a > 1",
    "adjacent conditions": lambda n: " ".join(["tags.a = 'x'"] * n) + " tags.b IS NULL",
    "dots in a key": lambda n: "tags" + ". " * n + "a = 'x'",
    "long IN list": lambda n: "run_id IN (" + "'a'," * n + "'a')",
    "OR chain": lambda n: " OR ".join(["metrics.a > 1"] * n),
    "groups": lambda n: " AND ".join(["(metrics.a > 1)"] * n),
}
ORDER_BY_SHAPES = {
    "order_by entries": lambda n: ["metrics.a DESC", "params.x", "tags.`a b` ASC"] * (n // 3),
    "one long entry": lambda n: ["a" * (16 * n)],
    "escaped entry": lambda n: ['"' + "a\\\"" * (8 * n) + '" DESC'],
}


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def row(name: str, small, large, run, repeat: int) -> None:
    run(small)  # warm up: lazy imports, tables
    t_small, t_large = best_of(lambda: run(small), repeat), best_of(lambda: run(large), repeat)
    ratio = t_large / t_small if t_small > 0 else float("inf")
    flag = "  check" if ratio > 16 else ""
    if isinstance(large, str) and any(d.code == "MF006" for d in mlfilter.check(large).diagnostics):
        flag += "  (8N is past sqlparse's 10,000 tokens: MF006 stops early)"
    size = len(large) if isinstance(large, str) else sum(len(str(e)) for e in large)
    print(f"{name:24} {t_small * 1000:10.2f} {t_large * 1000:10.2f} {ratio:7.1f}x "
          f"{size / t_large / 1e6 if t_large else 0:9.2f}{flag}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=2000, help="N, in units of each shape")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    n = 500 if args.quick else args.size
    print(f"mlfilter {mlfilter.__version__}, Python {sys.version.split()[0]}; N = {n}, 8N; "
          f"best of {args.repeat}")
    print(f"{'shape':24} {'N (ms)':>10} {'8N (ms)':>10} {'8N/N':>8} {'MB/s at 8N':>9}")
    print("-- check + render")
    for name, make in SHAPES.items():
        row(name, make(n), make(8 * n), lambda t: str(mlfilter.check(t)), args.repeat)
    print("-- fix_filter (safe fixes to the fixed point)")
    for name in ("stray ANDs", "groups", "deep parentheses", "valid AND chain"):
        make = SHAPES[name]
        row(name, make(n), make(8 * n), mlfilter.fix_filter, args.repeat)
    print("-- check_order_by")
    for name, make in ORDER_BY_SHAPES.items():
        row(name, make(n), make(8 * n), lambda e: str(mlfilter.check_order_by(e, "runs")),
            args.repeat)
    print("-- peak memory of one check (tracemalloc), against the input's size")
    for name, text in (("1 MB string", "params.x = '" + "a" * (1 << 20) + "'"),
                       ("1 MB AND chain", " AND ".join(["metrics.a > 1"] * ((1 << 20) // 18))),
                       ("1 MB stray ANDs", "metrics.a > 1 " + "AND " * ((1 << 20) // 4)),
                       ("1 MB groups", " AND ".join(["(metrics.a > 1)"] * ((1 << 20) // 20)))):
        tracemalloc.start()
        str(mlfilter.check(text))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{name:24} peak {peak / 1e6:8.1f} MB  ({peak / len(text):6.1f}x the input)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
