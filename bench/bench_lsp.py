"""`mlfilter server`: time from a `didChange` to its `publishDiagnostics` on a 2,000-line file.

    .venv/bin/python bench/bench_lsp.py            # 41 edits
    .venv/bin/python bench/bench_lsp.py --quick    # 11 edits

A real LSP client (pygls's) starts `python -m mlfilter server`, opens a generated 2,000-line
module (bench_lint.py's generated modules one after another, fixed seed: classes, functions,
about 50 MLflow search calls, some with mistakes, some f-strings) and then, again and again, edits one filter in the middle of the file (`32` <->
`'32'`, so the diagnostics change each time) with an incremental change, and waits for the
diagnostics of that document version. Each edit follows a pause longer than the debounce delay,
as when a user types a character and looks. Printed: the median and the 90th percentile of the
latency, and, as the reference measured in the same run on the same text, the median time of
linting it in this process (`mlfilter.lint.filelint.lint_text`, what the server must do per
edit), interleaved with the edits. Goal: a median under 20 ms. Then a burst: 20 edits sent at
once, how many times the server lints, and how long the last one's diagnostics take.
Prints only; nothing fails on the numbers (shared machines are noisy).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

LINES = 2000
EDITED = '"params.batch_size = 32"'  # one of bench_lint's searches: its `32` is toggled


def make_module(seed: int = 14) -> tuple[str, int]:
    """bench_lint's generated modules, one after another (every other one with its five search
    calls), cut to LINES lines; and the 0-based line of the filter that is edited."""
    from bench_lint import _module

    rng = random.Random(seed)
    lines: list[str] = []
    i = 0
    while len(lines) < LINES:
        lines += _module(rng, i, i % 2 == 0).split("\n")
        i += 1
    lines = lines[:LINES]
    candidates = [n for n, line in enumerate(lines) if EDITED in line]
    edit_line = min(candidates, key=lambda n: abs(n - LINES // 2))
    return "\n".join(lines) + "\n", edit_line


class Bench:
    def __init__(self) -> None:
        self.client = LanguageClient("mlfilter-bench", "1")
        self.arrived: dict[int, float] = {}
        self.publishes = 0
        self.event = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams):
            self.publishes += 1
            self.arrived[params.version] = time.perf_counter()
            self.event.set()

    async def wait(self, version: int, timeout: float = 60) -> float:
        deadline = time.perf_counter() + timeout
        while version not in self.arrived:
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), max(deadline - time.perf_counter(), 0.01))
        return self.arrived[version]


async def run(edits: int) -> int:
    text, edit_line = make_module()
    work = tempfile.mkdtemp(prefix="mlfilter-bench-lsp-")
    path = os.path.join(work, "module.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    uri = from_fs_path(path)
    bench = Bench()
    client = bench.client
    await client.start_io(sys.executable, "-m", "mlfilter", "server", cwd=work)
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=from_fs_path(work)))
    client.initialized(types.InitializedParams())
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=text)))
    await bench.wait(1)

    from mlfilter.config import Config
    from mlfilter.lint.filelint import lint_text

    config = Config(root=work)
    column = lines_of(text)[edit_line].index(EDITED) + EDITED.index("32")
    quoted = False
    latencies, references = [], []
    version = 1
    lines = lines_of(text)
    calls = text.count("search_")
    for i in range(edits + 1):
        await asyncio.sleep(0.15)  # a pause longer than the debounce delay
        old, new = ("'32'", "32") if quoted else ("32", "'32'")
        quoted = not quoted
        version += 1
        change = types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(edit_line, column),
                              types.Position(edit_line, column + len(old))), text=new)
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version), [change]))
        got = await bench.wait(version)
        lines[edit_line] = lines[edit_line][:column] + new + lines[edit_line][column + len(old):]
        current = "\n".join(lines)
        start = time.perf_counter()
        lint_text(current, path, config)
        reference = time.perf_counter() - start
        if i:  # the first edit warms up both
            latencies.append(got - sent)
            references.append(reference)

    med = statistics.median(latencies) * 1000
    p90 = sorted(latencies)[int(len(latencies) * 0.9) - 1] * 1000
    ref = statistics.median(references) * 1000
    print(f"file: {LINES:,} lines ({len(text.encode()) / 1000:.0f} kB), {calls} search calls; "
          f"{edits} edits; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    print(f"didChange -> publishDiagnostics: median {med:.1f} ms, p90 {p90:.1f} ms, "
          f"min {min(latencies) * 1000:.1f} ms (goal: median under 20 ms: "
          f"{'met' if med < 20 else 'not met'})")
    print(f"reference, lint_text of the same text in this process: median {ref:.1f} ms; "
          f"server / reference: {med / ref:.2f}x")

    before = bench.publishes
    sent = time.perf_counter()
    for _ in range(20):
        old, new = ("'32'", "32") if quoted else ("32", "'32'")
        quoted = not quoted
        version += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(edit_line, column),
                                  types.Position(edit_line, column + len(old))), text=new)]))
    got = await bench.wait(version)
    print(f"burst of 20 edits sent at once: {bench.publishes - before} lint(s) published, the "
          f"last edit's diagnostics after {(got - sent) * 1000:.1f} ms")
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return 0


def lines_of(text: str) -> list[str]:
    return text.split("\n")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--edits", type=int, default=41)
    p.add_argument("--quick", action="store_true", help="11 edits")
    args = p.parse_args()
    return asyncio.run(run(11 if args.quick else args.edits))


if __name__ == "__main__":
    sys.exit(main())
