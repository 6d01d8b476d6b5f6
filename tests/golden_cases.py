"""Loads the golden cases in tests/golden/MFxxx.yaml (one file per diagnostic code).

A case is one input (a filter string, UTF-8 bytes via YAML's !!binary, or an order_by list) for
one API, with every diagnostic mlfilter must report ("MF201 20..22": code and half-open span, in
report order), optionally the text `mlfilter.fix_filter` must produce (`fixed`), what the real
MLflow 3.17.2 store does with it (`mlflow`: ok | rejected | crash), and, for a known mlfilter bug,
`xfail` with the reason (then `expect` is what mlfilter *should* report).

A long filter can be written as a list of pieces, each a string or `[string, times]`:
`filter: ["start_time > ", ["1", 4301]]` is `start_time > ` and 4,301 ones.

Schema cases (MF5xx) also carry `schema` ({experiments: [...], view_type: ...}): they are checked
against the demo store's snapshot (mlfilter/data/demo_schema.json), and `demo_rows` is how many
runs MLflow's search returns from the demo store itself (mlfilter/data/demo.db).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

import mlfilter

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
APIS = ("runs", "experiments", "registered_models", "model_versions", "logged_models", "traces")
STATUSES = ("ok", "rejected", "crash", "unsupported")
CASE_KEYS = {"api", "filter", "order_by", "expect", "fixed", "mlflow", "xfail", "schema", "demo_rows",
             "mlflow_version", "backend"}
# The release line and database a case is for, unless it names others: the MLflow of the test
# environment (tests/mlflow_oracle.py), on SQLite.
ORACLE_LINE, ORACLE_BACKEND = "3.17", "sqlite"
DEMO_SCHEMA = Path(__file__).resolve().parent.parent / "mlfilter" / "data" / "demo_schema.json"
EXPECT_RE = re.compile(r"^(MF\d{3}) (\d+)\.\.(\d+)$")
# how an error says MLflow fails with an HTTP 5xx rather than rejecting the request with a 4xx
CRASH_RE = re.compile(r"crash|HTTP 5\d\d", re.IGNORECASE)


@dataclass(frozen=True)
class Case:
    code: str
    name: str
    api: str
    filter: str | bytes | None
    order_by: list | None
    expect: tuple[str, ...]
    fixed: str | None
    mlflow: str | None
    xfail: str | None
    schema: dict | None = None
    demo_rows: int | None = None
    mlflow_version: str = ORACLE_LINE
    backend: str = ORACLE_BACKEND

    @property
    def id(self) -> str:
        return f"{self.code}:{self.name}"

    @property
    def is_order_by(self) -> bool:
        return self.order_by is not None

    @property
    def in_process(self) -> bool:
        """Whether the in-process oracle (this environment's MLflow on SQLite) can label it."""
        return (self.mlflow_version, self.backend) == (ORACLE_LINE, ORACLE_BACKEND)

    def report(self) -> mlfilter.Report:
        target = {"mlflow_version": self.mlflow_version, "backend": self.backend}
        if self.is_order_by:
            return mlfilter.check_order_by(self.order_by, self.api, **target)
        if self.schema is not None:
            return mlfilter.check(self.filter, self.api, schema=str(DEMO_SCHEMA),
                                  experiment_ids=self.schema.get("experiments"),
                                  view_type=self.schema.get("view_type"), **target)
        return mlfilter.check(self.filter, self.api, **target)

    def verdict(self, oracle):
        if self.is_order_by:
            return oracle.order_by_verdict(self.api, self.order_by)
        return oracle.filter_verdict(self.api, self.filter)


def golden_files() -> list[Path]:
    return sorted(GOLDEN_DIR.glob("MF*.yaml"))


def load_file(path: Path) -> tuple[dict, list[Case]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = []
    for name, raw in (data.get("cases") or {}).items():
        cases.append(Case(
            code=data["code"],
            name=name,
            api=raw.get("api", "runs"),
            filter=_pieces(raw.get("filter")),
            order_by=raw.get("order_by"),
            expect=tuple(raw.get("expect", ())),
            fixed=raw.get("fixed"),
            mlflow=raw.get("mlflow"),
            xfail=raw.get("xfail"),
            schema=raw.get("schema"),
            demo_rows=raw.get("demo_rows"),
            mlflow_version=str(raw.get("mlflow_version", ORACLE_LINE)),
            backend=raw.get("backend", ORACLE_BACKEND),
        ))
    return data, cases


def _pieces(value):
    if not isinstance(value, list):
        return value
    return "".join(p if isinstance(p, str) else p[0] * p[1] for p in value)


def load_cases() -> list[Case]:
    out = []
    for path in golden_files():
        out.extend(load_file(path)[1])
    return out


def diagnostics(report) -> list[str]:
    """The report as golden `expect` strings, in report order."""
    return [f"{d.code} {d.span.start}..{d.span.end}" for d in report.diagnostics]


def claims_crash(report) -> bool:
    return any(CRASH_RE.search(d.message) for d in report.errors)


def verdict_problems(report, status: str) -> list[str]:
    """Why mlfilter's report does not match what MLflow does (status ok | rejected | crash)."""
    problems = []
    if report.ok != (status == "ok"):
        problems.append(f"mlfilter says ok={report.ok}, MLflow says {status}")
    verdict = {"accepted": "ok"}.get(report.verdict, report.verdict)
    if status in ("rejected", "crash") and verdict != status:
        problems.append(f"MLflow's verdict is {status}, mlfilter's {verdict}")
    if status == "crash" and not claims_crash(report):
        problems.append("MLflow fails with HTTP 5xx but no error says it crashes")
    return problems


def render_snapshot(cases: list[Case]) -> str:
    """The snapshot of one code: each case's str(report) under a header with its name."""
    blocks = []
    for case in cases:
        rendered = str(case.report())
        blocks.append(f"=== {case.name} [{case.api}] ===\n{rendered or '(no diagnostics)'}\n")
    return "\n".join(blocks)
