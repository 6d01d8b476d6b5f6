#!/usr/bin/env python
"""Cold start: a whole `mlfilter check` process against `python -c pass`, same interpreter.

Timed, as whole processes (spawn to exit, output discarded):

    <python> -m mlfilter check "metrics.a > 1"      the module entry point
    mlfilter check "metrics.a > 1"                  the console script next to sys.executable
    <python> -c "import lark"                       for scale (mlfilter must not need it)
    <python> -c "import mlflow"                     for scale (what mlfilter replaces)

each against the reference `<python> -c pass`, in pairs whose order alternates (reference first,
then candidate first), so that a noisy neighbour hurts both sides alike. Reported: medians, the
ratio of medians and the median of the paired ratios. Target: the mlfilter commands at most 4x
`python -c pass`. Then `-X importtime` of the module entry point: the ten costliest imports that
`python -c pass` does not do, medians over a few runs.

Two things here distort cold start, and the script says when it sees them:

* an editable install (`pip install -e`) puts a meta-path finder in a .pth file: every start of
  that interpreter, `python -c pass` included, imports it (and pathlib, importlib.util...).
  `--non-editable` also builds a throwaway venv with `python -m venv`, installs a copy of this
  repo into it with `pip install --no-deps` plus lark, and measures there too.
* PYTHONDONTWRITEBYTECODE=1 with a source checkout: no __pycache__ is ever written, so every
  start compiles mlfilter from source. By default the children get a private bytecode cache
  (PYTHONPYCACHEPREFIX in a temp dir, warmed up before timing: what a normal install has);
  `--as-is` passes the environment through unchanged.

    .venv/bin/python bench/bench_cold_start.py --quick
    .venv/bin/python bench/bench_cold_start.py --non-editable      # full run, a few minutes

Prints numbers, never fails on them.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TARGET = 4.0
FILTER = "metrics.a > 1"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WATCHED = ("mlflow", "sqlalchemy", "pandas", "numpy", "lark")


# Children run in a neutral directory: from the repo root, `-m mlfilter` and `-c` would import
# the checkout (and its mlfilter.egg-info) from the current directory instead of the install.
CWD = tempfile.gettempdir()


def _run(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False,
                   cwd=CWD)
    return time.perf_counter() - t0


def paired(base: list[str], cand: list[str], pairs: int, env: dict) -> tuple[list, list]:
    tb, tc = [], []
    for i in range(pairs):
        if i % 2 == 0:
            tb.append(_run(base, env))
            tc.append(_run(cand, env))
        else:
            tc.append(_run(cand, env))
            tb.append(_run(base, env))
    return tb, tc


def child_env(as_is: bool, cache_dir: str | None) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # measure the installed package, not a checkout on the path
    if not as_is:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


def editable_info(python: str, env: dict) -> str | None:
    """How mlfilter is installed for `python`: its direct_url.json says `editable` for `pip -e`."""
    code = ("import importlib.metadata as m, json\n"
            "d = m.distribution('mlfilter')\n"
            "u = json.loads(d.read_text('direct_url.json') or '{}')\n"
            "print('editable' if u.get('dir_info', {}).get('editable') else 'regular')")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, cwd=CWD)
    return out.stdout.strip() or None


def importtime(cmd: list[str], env: dict, runs: int) -> dict[str, tuple[float, float, int]]:
    """module -> (median self us, median cumulative us, nesting level) over `runs` runs."""
    samples: dict[str, list[tuple[int, int]]] = {}
    level: dict[str, int] = {}
    pat = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
    for _ in range(runs):
        err = subprocess.run(cmd[:1] + ["-X", "importtime"] + cmd[1:], capture_output=True,
                             text=True, env=env, cwd=CWD).stderr
        for m in pat.finditer(err):
            name = m.group(4)
            samples.setdefault(name, []).append((int(m.group(1)), int(m.group(2))))
            level[name] = len(m.group(3)) // 2
    return {k: (statistics.median(s for s, _ in v), statistics.median(c for _, c in v), level[k])
            for k, v in samples.items()}


def report_setup(label: str, python: str, script: str | None, env: dict, pairs: int,
                 pairs_mlflow: int, it_runs: int) -> dict:
    base = [python, "-c", "pass"]
    cands = [("python -m mlfilter check", [python, "-m", "mlfilter", "check", FILTER], pairs, True)]
    if script and os.path.exists(script):
        cands.append(("mlfilter check (script)", [script, "check", FILTER], pairs, True))
    cands.append(("python -c 'import lark'", [python, "-c", "import lark"], pairs, False))
    if pairs_mlflow:
        cands.append(("python -c 'import mlflow'", [python, "-c", "import mlflow"], pairs_mlflow,
                      False))

    # Sanity: the commands work, and warm the bytecode cache.
    for _, cmd, _, _ in cands:
        for _ in range(2):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=CWD)
    r = subprocess.run(cands[0][1], capture_output=True, text=True, env=env, cwd=CWD)
    if r.returncode != 0:
        print(f"  !! {' '.join(cands[0][1])} exited {r.returncode}: {r.stderr.strip()[:300]}")

    kind = editable_info(python, env)
    pass_it = importtime(base, env, it_runs)
    finder = {k: v for k, v in pass_it.items() if "__editable__" in k}
    print(f"\n== {label}: {python}")
    print(f"   mlfilter install: {kind}; bytecode: "
          f"{'as the environment has it' if 'PYTHONPYCACHEPREFIX' not in env else 'private cache (warm)'}"
          + ("; PYTHONDONTWRITEBYTECODE=1" if env.get("PYTHONDONTWRITEBYTECODE") else ""))
    for k, (_, cum, _) in finder.items():
        print(f"   editable finder {k}: {cum / 1000:.1f} ms cumulative import at EVERY start "
              "(python -c pass included)")
    print(f"   {'command':<28} {'median':>8} {'ref (-c pass)':>14} {'ratio':>7} {'paired':>7}  target")
    results = {}
    for name, cmd, n, targeted in cands:
        tb, tc = paired(base, cmd, n, env)
        mb, mc = statistics.median(tb), statistics.median(tc)
        pr = statistics.median(c / b for b, c in zip(tb, tc))
        verdict = (("met" if mc / mb <= TARGET else "NOT met") + f" (<= {TARGET:g}x)") if targeted else ""
        print(f"   {name:<28} {mc * 1000:>6.1f}ms {mb * 1000:>12.1f}ms {mc / mb:>6.2f}x {pr:>6.2f}x"
              f"  {verdict}   [{n} pairs]")
        results[name] = (mc, mb)

    it = importtime([python, "-m", "mlfilter", "check", FILTER], env, it_runs)
    extra = {k: v for k, v in it.items() if k not in pass_it}
    leaked = sorted(k for k in it if k.split(".")[0] in WATCHED)
    own = sum(v[0] for k, v in extra.items())
    pkg = it.get("mlfilter", (0, 0, 0))[1]
    print(f"   -X importtime (median of {it_runs}): imports beyond `-c pass` {own / 1000:.1f} ms self "
          f"in all; `mlfilter` package {pkg / 1000:.1f} ms cumulative; "
          f"watched heavy modules imported: {', '.join(leaked) or 'none'}")
    print(f"   {'self ms':>8} {'cum ms':>8}  module (top 10 by self time, not imported by -c pass)")
    for k, (s, c, _) in sorted(extra.items(), key=lambda kv: -kv[1][0])[:10]:
        print(f"   {s / 1000:>8.2f} {c / 1000:>8.2f}  {k}")
    print(f"   {'self ms':>8} {'cum ms':>8}  module (top 10 by cumulative time, indented by depth)")
    for k, (s, c, lvl) in sorted(extra.items(), key=lambda kv: -kv[1][1])[:10]:
        print(f"   {s / 1000:>8.2f} {c / 1000:>8.2f}  {'  ' * lvl}{k}")
    return results


def make_venv(where: str, python: str) -> tuple[str, str]:
    """A throwaway venv with a regular (non-editable) install of a copy of this repo, plus lark."""
    src = os.path.join(where, "src")
    os.makedirs(src)
    shutil.copytree(os.path.join(REPO, "mlfilter"), os.path.join(src, "mlfilter"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(os.path.join(REPO, "grammar"), os.path.join(src, "grammar"))
    shutil.copy(os.path.join(REPO, "pyproject.toml"), src)
    readme = os.path.join(REPO, "README.md")
    if os.path.exists(readme):
        shutil.copy(readme, src)
    else:  # pyproject names it; a placeholder lets the build go on
        with open(os.path.join(src, "README.md"), "w") as f:
            f.write("mlfilter\n")
    venv = os.path.join(where, "venv")
    subprocess.run([python, "-m", "venv", venv], check=True)
    vpy = os.path.join(venv, "bin", "python")
    lark_spec = "lark"
    try:
        import importlib.metadata as md

        lark_spec = f"lark=={md.version('lark')}"
    except Exception:
        pass
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # let pip write bytecode, as a normal install does
    quiet = ["-q", "--disable-pip-version-check"]
    subprocess.run([vpy, "-m", "pip", "install", *quiet, "--no-deps", src], check=True, env=env)
    subprocess.run([vpy, "-m", "pip", "install", *quiet, "--no-deps", lark_spec], check=True, env=env)
    return vpy, os.path.join(venv, "bin", "mlfilter")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="8 pairs (mlflow: 2), 3 importtime runs")
    ap.add_argument("--pairs", type=int, help="pairs per command (default 30)")
    ap.add_argument("--pairs-mlflow", type=int, help="pairs for `import mlflow` (default 10; 0 skips)")
    ap.add_argument("--as-is", action="store_true",
                    help="pass the environment through (no private bytecode cache)")
    ap.add_argument("--non-editable", action="store_true",
                    help="also measure a regular install in a throwaway venv (needs the package index)")
    ap.add_argument("--venv-dir", help="where to build that venv (kept); default: a temp dir, removed")
    args = ap.parse_args(argv)
    pairs = args.pairs or (8 if args.quick else 30)
    pairs_mlflow = args.pairs_mlflow if args.pairs_mlflow is not None else (2 if args.quick else 10)
    it_runs = 3 if args.quick else 7

    python = sys.executable
    script = os.path.join(os.path.dirname(python), "mlfilter")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"cold start of `mlfilter check {FILTER!r}` vs `python -c pass`; {os.cpu_count()} CPUs, "
          f"load average {load}; medians of paired alternating runs; target <= {TARGET:g}x")
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.path.isdir(
            os.path.join(REPO, "mlfilter", "__pycache__")):
        print("note: PYTHONDONTWRITEBYTECODE is set and mlfilter/ has no __pycache__: as-is, every "
              "start compiles mlfilter from source" + ("" if args.as_is else
                                                        " (not measured so: a private cache is used)"))
    global CWD
    with tempfile.TemporaryDirectory(prefix="mlfilter-bench-") as tmp:
        CWD = os.path.join(tmp, "cwd")
        os.mkdir(CWD)
        env = child_env(args.as_is, os.path.join(tmp, "pycache"))
        report_setup("this interpreter", python, script, env, pairs, pairs_mlflow, it_runs)
        if args.non_editable:
            where = args.venv_dir or os.path.join(tmp, "ne")
            vpy = os.path.join(where, "venv", "bin", "python")
            vscript = os.path.join(where, "venv", "bin", "mlfilter")
            if not os.path.exists(vpy):
                print(f"\nbuilding a non-editable venv in {where} ...", flush=True)
                vpy, vscript = make_venv(where, python)
            # that venv has no mlflow: its `import mlflow` line is skipped
            report_setup("non-editable install", vpy, vscript, env, pairs, 0, it_runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
