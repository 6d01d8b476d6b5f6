"""The `mlfilter` command: check, rules, demo. `main(argv) -> int`; nothing imports this module."""

from __future__ import annotations

import argparse
import os
import sys

from mlfilter.apis import APIS

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _api(value: str) -> str:
    key = value.strip().lower().replace("-", "_").removeprefix("search_")
    if key not in APIS:
        raise argparse.ArgumentTypeError(f"unknown API {value!r} (choose from {', '.join(APIS)})")
    return key


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mlfilter",
        description="Check MLflow search filters before MLflow rejects them.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    c = sub.add_parser("check", help="check a filter string (and order_by entries)")
    c.add_argument("filter", metavar="FILTER", help="the filter string; '-' reads it from stdin")
    c.add_argument("--api", type=_api, default="runs",
                   help="search API: " + ", ".join(APIS) + " (default: runs)")
    c.add_argument("--order-by", action="append", metavar="ENTRY", default=None,
                   help="an order_by entry; repeat for several")
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    r = sub.add_parser("rules", help="list every diagnostic code, or explain one")
    r.add_argument("code", nargs="?", metavar="CODE")
    d = sub.add_parser("demo", help="check a built-in handful of typical mistaken searches")
    d.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    sub.add_parser("version", help="print mlfilter's version and the MLflow version it targets")
    return p


def _use_color(choice: str, stream) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty() and os.environ.get("TERM") != "dumb"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse already printed the usage problem
        return EXIT_USAGE if e.code else EXIT_OK
    if args.command == "check":
        return _check(args)
    if args.command == "rules":
        return _rules(args.code)
    if args.command == "demo":
        from mlfilter import demo

        return demo.run(sys.stdout, _use_color(args.color, sys.stdout))
    if args.command == "version":
        from mlfilter import __version__
        from mlfilter._target import MLFLOW_TARGET

        print(f"mlfilter {__version__} (MLflow {MLFLOW_TARGET})")
        return EXIT_OK
    parser.print_help()
    return EXIT_USAGE


def _read_filter(value: str):
    if value != "-":
        return value
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
    if isinstance(data, bytes):
        data = data.rstrip(b"\r\n")
    else:
        data = data.rstrip("\r\n")
    return data  # bytes: the checker decodes UTF-8 and reports MF001 if it cannot


def _check(args) -> int:
    from mlfilter.checker import check, check_order_by
    from mlfilter.render import render_json, render_summary, render_text

    reports = [check(_read_filter(args.filter), args.api)]
    if args.order_by is not None:
        reports.append(check_order_by(args.order_by, args.api))
    if args.format == "json":
        print(render_json(reports))
    else:
        color = _use_color(args.color, sys.stdout)
        for report in reports:
            text = render_text(report, color=color)
            if text:
                print(text + "\n")
        print(" ; ".join(render_summary(r) for r in reports))
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FINDINGS


def _rules(code: str | None) -> int:
    from mlfilter.rules.registry import BY_CODE, RULES

    if code is None:
        for rule in RULES:
            print(f"{rule.code}  {rule.severity.value:<7}  {rule.name:<28} {rule.summary}")
        return EXIT_OK
    rule = BY_CODE.get(code.upper())
    if rule is None:
        print(f"mlfilter: unknown code {code!r} (see `mlfilter rules`)", file=sys.stderr)
        return EXIT_USAGE
    from mlfilter.docs import rule_section

    print(rule_section(rule))
    return EXIT_OK
