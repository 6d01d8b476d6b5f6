"""Runs the examples of README.md and docs/*.md and compares them with what the pages show
(tests/test_docs_examples.py runs it for every page).

    python tools/doc_examples.py [--update] [FILE ...]     # default: every page

Without --update it prints each difference and exits 1 if there is one. With --update it
rewrites the outputs the pages show (console output, and the ```text block right after a
```python block) from this run; review the diff. Claims in comments are never rewritten.

What runs, and where (the conventions of tools/doc_blocks.py and tools/doc_claims.py):

- Each page runs in a fresh temporary directory: a copy of docs/examples/<page>/ when there is
  one (README.md's is docs/examples/README/), plus `mlflow.db`, a copy of the demo store
  (mlfilter/data/demo.db), and `schema.json`, its snapshot, unless the example directory has
  its own.
- ```console blocks: each `$ command` (with its `\\` continuations) runs in bash; its stdout
  and stderr, together, must be the lines shown under it (`...` stands for any lines).
  NO_COLOR=1, COLUMNS=100, and no MLFLOW_*/MLFILTER_* variables but
  MLFLOW_TRACKING_URI=sqlite:///mlflow.db.
- ```python blocks run in order, in one namespace, in one process per page, with the same
  environment; a page with IPython magics (`%...`) runs them all in a real IPython shell.
  Claims in comments are checked (`x  # 3`, `# raises NAME`), `>>>` blocks are doctests, and a
  ```text block right after a block must be what it prints.
- `http://127.0.0.1:5000` in an example is a real `mlflow server --app-name mlfilter` on a copy
  of the demo store, on a free port (the port is swapped both ways).
- A block with `_Not run by the docs tests: REASON._` on the line before it is skipped; one
  with `_File `NAME`:_` must equal docs/examples/<page>/NAME.
"""

from __future__ import annotations

import difflib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from doc_blocks import (MAGIC, Block, blocks, commands, lines_match,  # noqa: E402
                        render_console, replace_bodies)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"
DEMO_DB = ROOT / "mlfilter" / "data" / "demo.db"
DEMO_SCHEMA = ROOT / "mlfilter" / "data" / "demo_schema.json"
SHOWN_SERVER = "127.0.0.1:5000"
TIMEOUT = 300  # seconds, per command or block: a hang is a failure, not a stuck run


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def example_dir(page: Path) -> Path:
    return EXAMPLES / page.stem


def page_name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix() if page.is_relative_to(ROOT) else page.name


def needs_server(page: Path) -> bool:
    return any(b.runnable and SHOWN_SERVER in b.body for b in blocks(page.read_text("utf-8")))


@dataclass
class Result:
    page: Path
    ran: list[int] = field(default_factory=list)          # lines of the blocks run
    failures: list[str] = field(default_factory=list)     # broken claims, errors, drifted files
    diffs: list[str] = field(default_factory=list)        # outputs that are not the ones shown
    updates: dict[int, str] = field(default_factory=dict)  # block line -> content from this run

    @property
    def problems(self) -> list[str]:
        return self.diffs + self.failures


def prepare(page: Path, workdir: Path) -> None:
    if example_dir(page).is_dir():
        shutil.copytree(example_dir(page), workdir, dirs_exist_ok=True)
    for source, name in ((DEMO_DB, "mlflow.db"), (DEMO_SCHEMA, "schema.json")):
        if not (workdir / name).exists():
            shutil.copyfile(source, workdir / name)


def environment() -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLFLOW_", "MLFILTER_", "PYTEST_"))}
    env.update(NO_COLOR="1", COLUMNS="100", TERM="dumb", LC_ALL="C.UTF-8",
               PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
               MLFLOW_TRACKING_URI="sqlite:///mlflow.db", MLFLOW_DISABLE_TELEMETRY="true",
               MLFLOW_HTTP_REQUEST_MAX_RETRIES="0")
    return env


class Ports:
    """Swaps the port the pages show for the real server's, and back."""

    def __init__(self, server_url: str | None):
        self.real = server_url.removeprefix("http://") if server_url else None

    def to_real(self, text: str) -> str:
        return text.replace(SHOWN_SERVER, self.real) if self.real else text

    def to_shown(self, text: str) -> str:
        return text.replace(self.real, SHOWN_SERVER) if self.real else text


def _diff(where: str, shown: list[str], actual: list[str]) -> str:
    diff = difflib.unified_diff(shown, actual, "shown", "actual", lineterm="")
    return f"{where}: the output differs\n" + "\n".join(diff)


def _lines(text: str) -> list[str]:
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


class Worker:
    """The page's python process (tools/doc_worker.py), started at its first python block."""

    def __init__(self, workdir: Path, env: dict, ipython: bool, log: Path):
        self.log = log
        with open(log, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("doc_worker.py"))], cwd=workdir,
                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True)
        self._send({"ipython": ipython})

    def _send(self, message: dict) -> None:
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def run(self, code: str, filename: str, line: int, shows_output: bool) -> dict:
        self._send({"code": code, "filename": filename, "line": line,
                    "shows_output": shows_output})
        ready, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
        answer = self.proc.stdout.readline() if ready else ""
        if not answer:
            self.close()
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the python process died or hung ({TIMEOUT} s):\n{tail}")
        return json.loads(answer)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_page(page: Path, workdir: Path, server_url: str | None = None) -> Result:
    """Runs every runnable block of `page` in `workdir` (empty), in order."""
    result = Result(page)
    name = page_name(page)
    found = blocks(page.read_text("utf-8"))
    for block in found:
        if block.file is not None:
            _compare_file(page, block, result)
    if needs_server(page) and server_url is None:
        result.failures.append(f"{name}: its examples need the tracking server {SHOWN_SERVER}")
        return result
    prepare(page, workdir)
    env, ports = environment(), Ports(server_url)
    env["IPYTHONDIR"] = str(workdir.parent / f"{workdir.name}-ipython")  # its history, not ~'s
    ipython = any(b.runnable and b.lang == "python" and MAGIC.search(b.body) for b in found)
    worker = None
    try:
        for block in (b for b in found if b.runnable):
            result.ran.append(block.line)
            where = f"{name}:{block.line}"
            if block.lang == "console":
                _console(block, where, workdir, env, ports, result)
                continue
            if worker is None:
                worker = Worker(workdir, env, ipython, workdir.parent / f"{workdir.name}.log")
            try:
                answer = worker.run(ports.to_real(block.body), name, block.line + 1,
                                    block.output is not None)
            except RuntimeError as error:
                result.failures.append(f"{where}: {error}")
                worker = None
                continue
            result.failures.extend(answer["failures"])
            if block.output is not None:
                shown, actual = _lines(block.output.body), _lines(ports.to_shown(answer["printed"]))
                if not lines_match(shown, actual):
                    result.diffs.append(_diff(f"{name}:{block.output.line}", shown, actual))
                    result.updates[block.output.line] = "\n".join(actual) + "\n"
    finally:
        if worker is not None:
            worker.close()
    return result


def _console(block: Block, where: str, workdir: Path, env: dict, ports: Ports,
             result: Result) -> None:
    try:
        listed = commands(block.body)
    except ValueError as error:
        result.failures.append(f"{where}: {error}")
        return
    items, changed = [], False
    for command in listed:
        try:
            done = subprocess.run(["bash", "-c", ports.to_real(command.source)], cwd=workdir,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=TIMEOUT, stdin=subprocess.DEVNULL)
            actual = _lines(ports.to_shown(done.stdout.decode("utf-8", "replace")))
        except subprocess.TimeoutExpired:
            actual = [f"(no answer within {TIMEOUT} s)"]
        if lines_match(command.shown, actual):
            items.append((command.source, command.shown))
            continue
        changed = True
        result.diffs.append(_diff(f"{where}: $ {command.source}", command.shown, actual))
        items.append((command.source, actual))
    if changed:
        result.updates[block.line] = render_console(items)


def _compare_file(page: Path, block: Block, result: Result) -> None:
    path = example_dir(page) / block.file
    where = f"{page_name(page)}:{block.line}"
    if not path.is_file():
        result.failures.append(f"{where}: the page shows `{block.file}`, but {path} is missing")
    elif path.read_text("utf-8") != block.body:
        result.failures.append(_diff(f"{where}: `{block.file}` differs from {path}",
                                     block.body.splitlines(), path.read_text("utf-8").splitlines()))


def start_server(home: Path) -> dict:
    """`mlflow server --app-name mlfilter` on a copy of the demo store: {"url", "pgid", "log"}."""
    sys.path.insert(0, str(ROOT / "tests"))
    import mlflow_app_servers as servers

    return servers.start(home, servers.copy_store(f"sqlite:///{DEMO_DB}", home), "mlfilter")


def stop_server(server: dict) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    import stores

    stores.stop_mlflow_server(server)


def main(argv: list[str]) -> int:
    update = "--update" in argv
    chosen = [Path(a).resolve() for a in argv if a != "--update"] or pages()
    server, failed = None, 0
    with tempfile.TemporaryDirectory(prefix="mlfilter-docs-") as tmp:
        try:
            for page in chosen:
                if needs_server(page) and server is None:
                    server = start_server(Path(tmp) / "tracking-server")
                workdir = Path(tmp) / page.stem
                workdir.mkdir()
                result = run_page(page, workdir, server and server["url"])
                if update and result.updates:
                    text = page.read_text("utf-8")
                    page.write_text(replace_bodies(text, result.updates, blocks(text)), "utf-8")
                    print(f"{page_name(page)}: {len(result.diffs)} output(s) rewritten")
                left = result.failures if update else result.problems
                for failure in left:
                    print(failure, end="\n\n")
                failed += bool(left)
                print(f"{page_name(page)}: {len(result.ran)} block(s) run, "
                      f"{len(left)} problem(s)", file=sys.stderr)
        finally:
            if server is not None:
                stop_server(server)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
