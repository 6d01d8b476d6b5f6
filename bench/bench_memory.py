"""Peak memory of `mlfilter.check` on 1 MB filters, measured with tracemalloc.

    .venv/bin/python bench/bench_memory.py            # 1 MB
    .venv/bin/python bench/bench_memory.py --mb 10

For each shape (a 1 MB quoted value, a 1 MB key, a 1 MB chain of clauses, 1 MB of garbage) the
peak of memory allocated during one check, after a warm-up on a small filter (tables loaded),
and that peak as a multiple of the input's size. Prints only; no test asserts memory.
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


def shapes(size: int) -> dict[str, str]:
    return {
        "quoted value": "params.x = '" + "a" * (size - 14) + "'",
        "key": "params." + "k" * (size - 14) + " = 'a'",
        "AND chain": " AND ".join(["metrics.a > 1"] * (size // 18)),
        "OR chain": " OR ".join(["metrics.a > 1"] * (size // 17)),
        "garbage": "#$%^ ,. ;" * (size // 9),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mb", type=float, default=1.0)
    args = p.parse_args(argv)
    size = int(args.mb * 1_000_000)
    mlfilter.check("metrics.a > 1 AND params.x = 'y'")
    print(f"mlfilter {mlfilter.__version__}: peak memory of check() on {args.mb:g} MB inputs")
    print(f"{'shape':>14} {'input MB':>9} {'peak MB':>8} {'x input':>8} {'seconds':>8}  verdict")
    for name, text in shapes(size).items():
        gc.collect()
        tracemalloc.start()
        t0 = time.perf_counter()
        report = mlfilter.check(text)
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        mb = len(text.encode()) / 1e6
        print(f"{name:>14} {mb:>9.2f} {peak / 1e6:>8.1f} {peak / len(text):>8.1f} "
              f"{elapsed:>8.3f}  {report.verdict} ({', '.join(sorted({d.code for d in report.diagnostics})) or '-'})")
        del report
    return 0


if __name__ == "__main__":
    sys.exit(main())
