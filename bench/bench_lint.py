"""`mlfilter lint` against `ruff check` on the same generated tree: whole-process wall time.

    .venv/bin/python bench/bench_lint.py            # 5,000 files, 1 % with search calls, 9 pairs
    .venv/bin/python bench/bench_lint.py --quick    # 3 pairs

The tree is generated with a fixed seed: ordinary modules (imports, classes, functions, ~90
lines each) and, in 1 % of them, MLflow search calls, some with mistakes. Each repetition runs
both tools once, in alternating order, and the script prints the medians, the ratio
`mlfilter / ruff` (target: at most 3) and mlfilter's own time (target: under 1 s here). A second
tree without any search call shows what the cheap text test costs: files without `search_<api>`
or `mlfilter` are read but never parsed. Prints only; nothing fails on the numbers (shared machines
are noisy). ruff must be installed in the same environment (`pip install ruff`); the script
says so and skips the comparison when it is not. ruff runs with `--no-cache`, as mlfilter has no
cache, and `--select E,F` (`--select` to change it).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)

SEARCHES = [
    'runs = mlflow.search_runs(["0"], "params.batch_size = 32")',
    'runs = mlflow.search_runs(filter_string="metrics.acc > 0.9 AND params.opt = \'adam\'")',
    "client.search_experiments(filter_string=\"name like 'prod-%'\", max_results=100)",
    'client.search_runs(["0"], f"params.model = \'{model}\' AND metrics.loss < {limit}")',
    'mlflow.search_traces(["0"], order_by=["timestamp_ms DESC"])',
]


def _module(rng: random.Random, index: int, with_search: bool) -> str:
    lines = [f'"""Generated module {index}."""', "from __future__ import annotations", "",
             "import json", "import os", "from dataclasses import dataclass", ""]
    if with_search:
        lines += ["import mlflow", "from mlflow import MlflowClient", "",
                  "client = MlflowClient()", ""]
    for c in range(rng.randint(1, 3)):
        lines += ["", "@dataclass", f"class Record{c}:", "    name: str", "    size: int = 0", "",
                  "    def describe(self) -> str:",
                  "        return f\"{self.name}: {self.size} bytes\"", ""]
    for f in range(rng.randint(3, 7)):
        lines += ["", f"def step_{f}(path: str, limit: int = {rng.randint(1, 99)}) -> dict:",
                  f'    """Read {{path}} and keep at most {{limit}} entries ({f})."""',
                  "    with open(path, encoding=\"utf-8\") as handle:",
                  "        data = json.load(handle)",
                  "    out = {}",
                  "    for key, value in sorted(data.items()):",
                  "        if len(out) >= limit:",
                  "            break",
                  "        out[key] = value if value is not None else os.sep",
                  "    return out", ""]
        if with_search and f == 0:
            lines += ["", "def find(model, limit):", *("    " + s for s in SEARCHES), ""]
    return "\n".join(lines) + "\n"


def make_tree(root: str, files: int, share: float, seed: int = 6) -> int:
    rng = random.Random(seed)
    with_search = set(rng.sample(range(files), round(files * share)))
    for i in range(files):
        directory = os.path.join(root, f"pkg{i // 100:02d}", f"sub{(i // 10) % 10}")
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, f"mod_{i:05d}.py"), "w", encoding="utf-8") as f:
            f.write(_module(rng, i, i in with_search))
    return len(with_search)


# Bytecode caches are written and used, as in any installed package (some shells set
# PYTHONDONTWRITEBYTECODE, which would make every run compile mlfilter from source).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str], cwd: str) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          env=ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed, proc.returncode


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--files", type=int, default=5000)
    p.add_argument("--reps", type=int, default=9)
    p.add_argument("--quick", action="store_true", help="3 repetitions")
    p.add_argument("--select", default="E,F",
                   help="ruff's rule selection (default E,F, as issue 15 measures it)")
    args = p.parse_args()
    reps = 3 if args.quick else args.reps
    mlfilter = [os.path.join(BIN, "mlfilter"), "lint", "."]
    ruff_exe = shutil.which("ruff", path=BIN) or shutil.which("ruff")
    ruff = [ruff_exe, "check", "--no-cache", "--quiet", "--exit-zero", "--select", args.select,
            "."] if ruff_exe else None
    work = tempfile.mkdtemp(prefix="mlfilter-bench-lint-")
    try:
        tree, plain = os.path.join(work, "tree"), os.path.join(work, "plain")
        n = make_tree(tree, args.files, 0.01)
        make_tree(plain, args.files, 0.0)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(tree) for f in fs)
        print(f"tree: {args.files:,} files ({size / 1e6:.1f} MB), {n} with search calls; "
              f"{reps} paired runs; {os.cpu_count()} CPUs")
        timed(mlfilter, plain)  # writes the bytecode caches
        _, status = timed(mlfilter, tree)
        print(f"mlfilter lint exit status on the tree: {status} (1: it found the planted mistakes)")
        if ruff:
            timed(ruff, tree)  # warm the page cache for both
        ours, theirs, ratios, plain_times = [], [], [], []
        for rep in range(reps):
            pair = [("mlfilter", mlfilter), ("ruff", ruff)] if ruff else [("mlfilter", mlfilter)]
            if rep % 2:
                pair.reverse()
            result = {}
            for name, argv in pair:
                result[name] = timed(argv, tree)[0]
            ours.append(result["mlfilter"])
            if ruff:
                theirs.append(result["ruff"])
                ratios.append(result["mlfilter"] / result["ruff"])
            plain_times.append(timed(mlfilter, plain)[0])
        print(f"mlfilter lint: median {statistics.median(ours):.3f} s "
              f"(min {min(ours):.3f}, max {max(ours):.3f})  target < 1 s")
        if ruff:
            version = subprocess.run([ruff_exe, "--version"], capture_output=True, text=True)
            print(f"{version.stdout.strip()} check --no-cache: median {statistics.median(theirs):.3f} s "
                  f"(min {min(theirs):.3f}, max {max(theirs):.3f})")
            print(f"ratio mlfilter / ruff: median of pairs {statistics.median(ratios):.2f}x "
                  f"(range {min(ratios):.2f}-{max(ratios):.2f})  target <= 3x")
        else:
            print("ruff is not installed here (pip install ruff): no comparison")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import mlfilter.cli, mlfilter.lint"], check=True,
                       env=ENV)
        startup = time.perf_counter() - start
        per_file = (statistics.median(plain_times) - startup) / args.files * 1e6
        print(f"same tree without any search call: median {statistics.median(plain_times):.3f} s; "
              f"start-up (import) {startup:.3f} s, so about {per_file:.0f} us per file "
              "(walk, read and a text test; no parse)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
