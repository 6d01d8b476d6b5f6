#!/usr/bin/env python
"""Throughput: `mlfilter.check(f, "runs")` against MLflow's own parser on the same filters.

The reference is `mlflow.utils.search_utils.SearchUtils.parse_search_filter(f)` (what
`search_runs` runs before any SQL), its exceptions caught, timed in the same process on the same
deterministic corpus. Both libraries are imported, and the corpus is checked against MLflow,
before anything is timed. Repetitions are interleaved (every repetition times every size with both
implementations, alternating which goes first) and medians are reported, because the machines
this runs on are shared and noisy. The printed ratio is mlfilter's speed / MLflow's speed, i.e.
MLflow's median time / mlfilter's median time, so higher is better for mlfilter.

    .venv/bin/python bench/bench_throughput.py            # full run (about a minute)
    .venv/bin/python bench/bench_throughput.py --quick    # a few seconds

It prints numbers and never fails on them: nothing here is a test. It exits non-zero only when the
corpus itself is wrong (a "valid" filter that MLflow rejects, an "invalid" one it accepts).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time

SIZES = (1, 2, 5, 10, 50, 100, 200)  # clauses per filter
ORDER_BY_SIZES = (1, 10)  # sizes also timed with an order_by list
TARGET = 20.0  # mlfilter should be at least this many times faster than MLflow's parser
INVALID_EVERY = 4  # every 4th filter of each size carries one clause MLflow rejects
SEED = 20240611

# ---- the corpus ------------------------------------------------------------------------------
# Clause templates, each one accepted by SearchUtils.parse_search_filter and by the store
# (mlfilter should call them all fine). Weighted like real run searches: mostly metrics and params.

METRIC_KEYS = ("acc", "accuracy", "loss", "val_loss", "f1", "auc", "rmse", "precision", "recall",
               "epoch", "`val loss`", "`train/loss`", "`top-5 acc`")
PARAM_KEYS = ("optimizer", "lr", "learning_rate", "batch_size", "model", "seed", "dropout",
              "`hidden size`", "scheduler", "weight_decay")
PARAM_VALUES = ("adam", "sgd", "0.001", "32", "resnet50", "cosine", "0.1", "bert-base", "42")
TAG_KEYS = ("mlflow.runName", "mlflow.user", "team", "env", "stage", "mlflow.source.type",
            "`data version`", "owner")
TAG_VALUES = ("vision", "prod", "baseline-3", "alice", "NOTEBOOK", "v2", "nlp", "staging")
STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")


def _number(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return f"0.{rng.randint(1, 999):03d}"
    if kind < 0.7:
        return str(rng.randint(0, 5000))
    if kind < 0.85:
        return f"{rng.randint(1, 99)}.{rng.randint(0, 99)}"
    return f"{rng.randint(1, 9)}e-{rng.randint(1, 6)}"


def _metric(rng):
    prefix = rng.choice(("metrics", "metrics", "metrics", "metric"))
    op = rng.choice(("<", "<=", ">", ">=", "=", "!="))
    return f"{prefix}.{rng.choice(METRIC_KEYS)} {op} {_number(rng)}"


def _string(rng, value: str) -> str:
    return f'"{value}"' if rng.random() < 0.15 else f"'{value}'"


def _param(rng):
    prefix = rng.choice(("params", "params", "params", "param", "parameters"))
    key, value = rng.choice(PARAM_KEYS), rng.choice(PARAM_VALUES)
    r = rng.random()
    if r < 0.55:
        return f"{prefix}.{key} {rng.choice(('=', '!='))} {_string(rng, value)}"
    if r < 0.8:
        return f"{prefix}.{key} {rng.choice(('LIKE', 'ILIKE', 'like'))} '%{value[:3]}%'"
    return f"{prefix}.{key} {rng.choice(('IS NULL', 'IS NOT NULL'))}"


def _tag(rng):
    prefix = rng.choice(("tags", "tags", "tag"))
    key, value = rng.choice(TAG_KEYS), rng.choice(TAG_VALUES)
    r = rng.random()
    if r < 0.55:
        return f"{prefix}.{key} {rng.choice(('=', '!='))} {_string(rng, value)}"
    if r < 0.85:
        return f"{prefix}.{key} {rng.choice(('LIKE', 'ILIKE'))} '{value[:2]}%'"
    return f"{prefix}.{key} {rng.choice(('IS NULL', 'IS NOT NULL'))}"


def _attribute(rng):
    prefix = rng.choice(("attributes.", "attributes.", "attribute.", "attr.", "run.", ""))
    r = rng.random()
    if r < 0.25:
        return f"{prefix}status {rng.choice(('=', '!='))} '{rng.choice(STATUSES)}'"
    if r < 0.5:
        key = rng.choice(("start_time", "end_time", "created"))
        op = rng.choice(("<", "<=", ">", ">=", "!="))
        return f"{prefix}{key} {op} {rng.randint(1_600_000_000_000, 1_760_000_000_000)}"
    if r < 0.65:
        return f"{prefix}run_name {rng.choice(('=', 'LIKE', 'ILIKE'))} 'sweep-{rng.randint(0, 99)}%'"
    if r < 0.8:
        ids = ", ".join(f"'{rng.getrandbits(64):016x}'" for _ in range(rng.randint(1, 4)))
        return f"{prefix}run_id {rng.choice(('IN', 'NOT IN'))} ({ids})"
    if r < 0.9:
        return f"{prefix}user_id = '{rng.choice(('alice', 'bob', 'ci-bot'))}'"
    key = rng.choice(("name", "digest", "context"))
    return f"{rng.choice(('datasets', 'dataset'))}.{key} = '{rng.choice(('train', 'eval', 'abc123'))}'"


_KINDS = ((_metric, 0.35), (_param, 0.25), (_tag, 0.2), (_attribute, 0.2))

# One clause MLflow's parser rejects (each one a mistake people make).
BAD_CLAUSES = (
    "params.batch_size = 32",  # a param compared with a number
    "metrics.accuracy > '0.8'",  # a metric compared with a string
    "params.learning_rate 0.001",  # no comparator
    "metrics.loss < 0.5 OR metrics.acc > 0.9",  # OR
    "attributes.foo = 'x'",  # not an attribute
    "tags.team IN ('a', 'b')",  # IN on a tag
    "metrics.loss IS NULL",  # IS NULL on a metric
    "attributes.status = FINISHED",  # unquoted string
    "params.optimizer = adam",  # unquoted string
)


def _clause(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for make, weight in _KINDS:
        acc += weight
        if x < acc:
            return make(rng)
    return _KINDS[-1][0](rng)


def build_corpus(clauses_per_size: int) -> dict[int, list[tuple[str, bool]]]:
    """size -> [(filter, valid)]: about `clauses_per_size` clauses in all for each size."""
    rng = random.Random(SEED)
    corpus = {}
    for size in SIZES:
        count = max(INVALID_EVERY, round(clauses_per_size / size))
        items = []
        for i in range(count):
            clauses = [_clause(rng) for _ in range(size)]
            valid = i % INVALID_EVERY != INVALID_EVERY - 1
            if not valid:
                clauses[rng.randrange(size)] = rng.choice(BAD_CLAUSES)
            joiner = rng.choice((" AND ", " AND ", " AND ", " and "))
            items.append((joiner.join(clauses), valid))
        corpus[size] = items
    return corpus


ORDER_BY_GOOD = ("metrics.acc DESC", "attributes.start_time", "params.lr ASC", "tags.team",
                 "metrics.`val loss` ASC", "run_name", "attribute.end_time DESC")
ORDER_BY_BAD = ("metrics.acc DESCENDING", "attributes.foo", "metrics.acc DESC extra")


def order_by_for(i: int, valid: bool, rng: random.Random) -> list[str]:
    entries = rng.sample(ORDER_BY_GOOD, rng.randint(1, 3))
    if not valid and i % 2:
        entries[-1] = rng.choice(ORDER_BY_BAD)
    return entries


# ---- the two implementations -----------------------------------------------------------------

def make_runners():
    import mlflow  # noqa: F401  (imported up front: never inside a timed region)
    from mlflow.utils.search_utils import SearchUtils

    import mlfilter

    parse = SearchUtils.parse_search_filter
    parse_order = SearchUtils.parse_order_by_for_search_runs
    check, check_order_by = mlfilter.check, mlfilter.check_order_by

    def run_mlfilter(items):
        for f, _ in items:
            check(f, "runs")

    def run_mlflow(items):
        for f, _ in items:
            try:
                parse(f)
            except Exception:
                pass

    def run_mlfilter_ob(items):
        for f, ob in items:
            check(f, "runs")
            check_order_by(ob, "runs")

    def run_mlflow_ob(items):
        for f, ob in items:
            try:
                parse(f)
            except Exception:
                pass
            for entry in ob:
                try:
                    parse_order(entry)
                except Exception:
                    pass

    def mlflow_accepts(f):
        try:
            parse(f)
            return True
        except Exception:
            return False

    return (run_mlfilter, run_mlflow, run_mlfilter_ob, run_mlflow_ob, mlflow_accepts,
            lambda f: check(f, "runs").ok, mlflow.__version__)


def _timed(fn, items) -> float:
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn(items)
        return time.perf_counter() - t0
    finally:
        gc.enable()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few seconds: fewer clauses and reps")
    ap.add_argument("--reps", type=int, help="interleaved repetitions (default 15, quick 5)")
    ap.add_argument("--clauses", type=int, help="clauses per size (default 600, quick 150)")
    args = ap.parse_args(argv)
    reps = args.reps or (5 if args.quick else 15)
    clauses = args.clauses or (150 if args.quick else 600)

    (run_mlfilter, run_mlflow, run_mlfilter_ob, run_mlflow_ob, mlflow_accepts, mlfilter_ok,
     mlflow_version) = make_runners()
    import mlfilter

    corpus = build_corpus(clauses)
    # The corpus is only worth timing if MLflow agrees with it.
    wrong = [(f, v) for items in corpus.values() for f, v in items if mlflow_accepts(f) != v]
    if wrong:
        for f, v in wrong[:10]:
            print(f"corpus error: MLflow {'rejects' if v else 'accepts'} {f[:200]!r}", file=sys.stderr)
        return 2
    total = sum(len(items) for items in corpus.values())
    disagree = sum(mlfilter_ok(f) != v for items in corpus.values() for f, v in items)
    ob_rng = random.Random(SEED + 1)
    ob_corpus = {s: [(f, order_by_for(i, v, ob_rng)) for i, (f, v) in enumerate(corpus[s])]
                 for s in ORDER_BY_SIZES}

    jobs = [(str(s), corpus[s], run_mlfilter, run_mlflow) for s in SIZES]
    jobs += [(f"{s}+order_by", ob_corpus[s], run_mlfilter_ob, run_mlflow_ob) for s in ORDER_BY_SIZES]
    for _, items, a, b in jobs:  # warm up: tables loaded, caches filled, code paths hot
        a(items)
        b(items)
    gc.collect()
    gc.freeze()  # MLflow's heap is large: keep it out of the per-batch collections below

    times = {name: ([], []) for name, *_ in jobs}
    for rep in range(reps):
        for j, (name, items, a, b) in enumerate(jobs):
            ta_list, tb_list = times[name]
            if (rep + j) % 2 == 0:  # alternate which implementation goes first
                ta, tb = _timed(a, items), _timed(b, items)
            else:
                tb, ta = _timed(b, items), _timed(a, items)
            ta_list.append(ta)
            tb_list.append(tb)

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"mlfilter {mlfilter.__version__} vs MLflow {mlflow_version} "
          "SearchUtils.parse_search_filter (search_runs)")
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in load)}; {reps} interleaved reps, medians; "
          f"{total} filters, 1 in {INVALID_EVERY} invalid")
    print(f"mlfilter's verdict differs from MLflow's parser on {disagree} of {total} filters "
          "(store-time rules can make mlfilter stricter)")
    print()
    head = (f"{'clauses':>14} {'filters':>7} {'mlfilter us/f':>14} {'MLflow us/f':>12} "
            f"{'ratio':>7} {'paired min-max':>15}  target {TARGET:g}x")
    print(head)
    print("-" * len(head))
    tot_a = [0.0] * reps
    tot_b = [0.0] * reps
    for name, items, *_ in jobs:
        ta, tb = times[name]
        if "+" not in name:
            tot_a = [x + y for x, y in zip(tot_a, ta)]
            tot_b = [x + y for x, y in zip(tot_b, tb)]
        ma, mb = statistics.median(ta), statistics.median(tb)
        paired = [b / a for a, b in zip(ta, tb)]
        ratio = mb / ma
        print(f"{name:>14} {len(items):>7} {ma / len(items) * 1e6:>14.1f} "
              f"{mb / len(items) * 1e6:>12.1f} {ratio:>6.1f}x {min(paired):>6.1f}-{max(paired):<6.1f}"
              f"   {'met' if ratio >= TARGET else 'NOT met'}")
    overall = statistics.median(tot_b) / statistics.median(tot_a)
    sizes_only = [times[str(s)] for s in SIZES]
    geo = statistics.geometric_mean(
        [statistics.median(tb) / statistics.median(ta) for ta, tb in sizes_only])
    print("-" * len(head))
    print(f"overall (whole filter corpus, sizes 1-200): {overall:.1f}x; geometric mean of "
          f"per-size ratios {geo:.1f}x; target >= {TARGET:g}x: {'met' if overall >= TARGET else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
