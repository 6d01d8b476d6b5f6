"""The `mlfilter` command: check, lint, server, rules, demo. `main(argv) -> int`; nothing imports this module."""

from __future__ import annotations

import os
import sys

from mlfilter.apis import APIS

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _api_key(value: str) -> str:
    return value.strip().lower().replace("-", "_").removeprefix("search_")


def _api(value: str) -> str:
    import argparse

    key = _api_key(value)
    if key not in APIS:
        raise argparse.ArgumentTypeError(f"unknown API {value!r} (choose from {', '.join(APIS)})")
    return key


def _parser():
    import argparse  # not for the plain `mlfilter check FILTER` (see _plain_check)

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
    _target_options(c)
    c.add_argument("--compat", action="store_true",
                   help="print the verdict of every supported MLflow release on every database")
    _store_options(c)
    e = sub.add_parser("explain", help="count the runs each condition keeps: why is my search empty?")
    e.add_argument("filter", metavar="FILTER", help="a search_runs filter; '-' reads stdin")
    e.add_argument("--store", metavar="URI", required=True,
                   help="database URI (sqlite:///..., postgresql://..., mysql+pymysql://...) or "
                        "tracking server (http://...)")
    e.add_argument("--experiment", action="append", metavar="ID|NAME")
    e.add_argument("--view-type", choices=("active_only", "deleted_only", "all"),
                   default="active_only", type=str.lower)
    e.add_argument("--format", choices=("text", "json"), default="text")
    s = sub.add_parser("schema", help="read what a tracking store holds (for type checks)")
    ssub = s.add_subparsers(dest="schema_command", metavar="ACTION")
    dump = ssub.add_parser("dump", help="print the store's schema as a JSON snapshot")
    dump.add_argument("--store", metavar="URI", required=True)
    dump.add_argument("--experiment", action="append", metavar="ID|NAME")
    dump.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    r = sub.add_parser("rules", help="list every diagnostic code, or explain one")
    r.add_argument("code", nargs="?", metavar="CODE")
    d = sub.add_parser("demo", help="check a built-in handful of typical mistaken searches")
    d.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    sub.add_parser("version", help="print mlfilter's version and the MLflow version it targets")
    _lint_parser(sub)
    srv = sub.add_parser("server", help="run the language server for editors (LSP over stdio)",
                         description="Speak the Language Server Protocol on stdin and stdout: "
                                     "editors show `mlfilter lint`'s findings as you type, with "
                                     "quick fixes, hover and key completion. Needs the lsp "
                                     "extra. See docs/editors.md.")
    srv.add_argument("--stdio", action="store_true",
                     help="accepted for clients that pass it; stdio is the only transport")
    return p


def _lint_parser(sub) -> None:
    lint = sub.add_parser(
        "lint", help="check every MLflow search call in .py files and notebooks",
        description="Check the filters, order_by, view types and max_results of every MLflow "
                    "search call in .py files and .ipynb notebooks. Settings come from "
                    "[tool.mlfilter] in pyproject.toml; these flags override them.")
    lint.add_argument("paths", nargs="*", metavar="PATH",
                      help="files and directories (default: the current directory)")
    lint.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text")
    lint.add_argument("--fix", action="store_true", help="apply safe fixes to the files")
    lint.add_argument("--diff", action="store_true",
                      help="show the safe fixes as a unified diff; write nothing")
    lint.add_argument("--select", metavar="CODES", help="codes or prefixes to report, e.g. MF2,MF301")
    lint.add_argument("--ignore", metavar="CODES", help="codes or prefixes not to report")
    lint.add_argument("--fail-on", choices=("error", "warning", "info"),
                      help="lowest severity that makes the exit status 1 (default: warning)")
    lint.add_argument("--api", type=_api, help="API of mlfilter.check() calls that name none")
    _target_options(lint)
    lint.add_argument("--exclude", action="append", metavar="PATTERN",
                      help="gitignore-style pattern of paths to skip (repeat, or separate with "
                           "commas); replaces the configured list")
    lint.add_argument("--config", metavar="FILE",
                      help="settings file (default: the nearest pyproject.toml with "
                           "[tool.mlfilter])")


def _target_options(c) -> None:
    from mlfilter.versions import BACKENDS, RELEASES

    c.add_argument("--mlflow-version", metavar="VERSION", type=_version,
                   help="the MLflow release whose verdict to give: " + ", ".join(RELEASES)
                        + " (default: the store's or server's with --store, else the MLflow "
                          "installed here, else the newest)")
    c.add_argument("--backend", choices=BACKENDS, type=str.lower,
                   help="the tracking store's database (default: from --store, else sqlite)")


def _version(value: str) -> str:
    import argparse

    from mlfilter.versions import TargetError, resolve_version

    try:
        return resolve_version(value)
    except TargetError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _store_options(c) -> None:
    g = c.add_mutually_exclusive_group()
    g.add_argument("--store", metavar="URI", help="type-check against this tracking store "
                   "(database URI or tracking server)")
    g.add_argument("--schema", metavar="FILE", help="type-check against a schema snapshot "
                   "(from `mlfilter schema dump`)")
    c.add_argument("--experiment", action="append", metavar="ID|NAME",
                   help="the experiments searched (default: all); repeat for several")
    c.add_argument("--view-type", choices=("active_only", "deleted_only", "all"), type=str.lower,
                   default=None)


def _use_color(choice: str, stream) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty() and os.environ.get("TERM") != "dumb"


def main(argv: list[str] | None = None) -> int:
    # A terminal or pipe that cannot encode a filter's characters gets escapes, not a traceback.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("mlfilter: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("mlfilter: out of memory: the input is too large", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`mlfilter rules | head -1`): stop quietly, as other tools do.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK
    except Exception as e:  # noqa: BLE001 - a bug of mlfilter's: say so, never a traceback
        print(f"mlfilter: internal error, please report it: {type(e).__name__}: "
              f"{str(e)[:300]}", file=sys.stderr)
        return EXIT_USAGE


class _CheckArgs:
    """What argparse gives `_check` for `check FILTER [--api API] [--format F] [--color C]`."""

    command = "check"
    order_by = mlflow_version = backend = store = schema = experiment = view_type = None
    compat = False

    def __init__(self, filter: str, api: str, format: str, color: str):
        self.filter, self.api, self.format, self.color = filter, api, format, color


_PLAIN_OPTIONS = {"--api": None, "--format": ("text", "json"),
                  "--color": ("auto", "always", "never")}


def _plain_check(argv: list[str]) -> _CheckArgs | None:
    """The arguments of the common `mlfilter check FILTER` (a pre-commit hook, a script), read
    without argparse, which costs a start-up as long as the check itself; None for anything
    else, which argparse then reads (and explains when it is wrong)."""
    if len(argv) < 2 or argv[0] != "check" or len(argv) % 2:
        return None
    filt, options = None, {"--api": "runs", "--format": "text", "--color": "auto"}
    rest = argv[1:]
    while rest:
        word = rest.pop(0)
        if word in _PLAIN_OPTIONS:
            value = rest.pop(0)
            allowed = _PLAIN_OPTIONS[word]
            if word == "--api":
                value = _api_key(value)
                if value not in APIS:
                    return None
            elif value not in allowed:
                return None
            options[word] = value
        elif filt is None and (word == "-" or not word.startswith("-")):
            filt = word
        else:
            return None
    if filt is None:
        return None
    return _CheckArgs(filt, options["--api"], options["--format"], options["--color"])


def _main(argv: list[str] | None = None) -> int:
    plain = _plain_check(sys.argv[1:] if argv is None else list(argv))
    if plain is not None:
        from mlfilter.errors import MlfilterError

        try:
            return _check(plain)
        except MlfilterError as e:
            print(f"mlfilter: {e}", file=sys.stderr)
            return EXIT_USAGE
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse already printed the usage problem
        return EXIT_USAGE if e.code else EXIT_OK
    if args.command in ("check", "explain", "schema"):
        from mlfilter.checker import MlfilterError

        try:
            return {"check": _check, "explain": _explain, "schema": _schema}[args.command](args)
        except MlfilterError as e:  # a store that is down, a bad snapshot...
            print(f"mlfilter: {e}", file=sys.stderr)
            return EXIT_USAGE
    if args.command == "rules":
        return _rules(args.code)
    if args.command == "demo":
        from mlfilter import demo

        return demo.run(sys.stdout, _use_color(args.color, sys.stdout))
    if args.command == "lint":
        return _lint(args)
    if args.command == "server":
        return _server()
    if args.command == "version":
        from mlfilter import __version__
        from mlfilter.versions import RELEASES, default_version

        print(f"mlfilter {__version__} (MLflow {', '.join(RELEASES.values())}; "
              f"default {RELEASES[default_version()]})")
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

    schema = None
    if getattr(args, "store", None) or getattr(args, "schema", None):
        from mlfilter.schema import Schema

        schema = (Schema.load(args.schema) if args.schema
                  else Schema.from_store(args.store, args.experiment, _progress()))
    version, backend = args.mlflow_version, args.backend
    if args.compat:
        return _compat(args)
    if schema is not None:
        version = version or schema.mlflow_line
        backend = backend or schema.backend
    target = {"mlflow_version": version, "backend": backend}
    reports = [check(_read_filter(args.filter), args.api, schema=schema,
                     experiment_ids=getattr(args, "experiment", None),
                     view_type=getattr(args, "view_type", None), **target)]
    if args.order_by is not None:
        reports.append(check_order_by(args.order_by, args.api, **target))
    if args.format == "json":
        print(render_json(reports))
    else:
        color = _use_color(args.color, sys.stdout)
        for report in reports:
            text = render_text(report, color=color)
            if text:
                print(text + "\n")
        chosen = any(x is not None for x in (args.mlflow_version, args.backend, schema))
        print(" ; ".join(render_summary(r, show_target=chosen) for r in reports))
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FINDINGS


def _compat(args) -> int:
    """`check --compat`: the matrix of verdicts, for the filter and each order_by list."""
    import json

    from mlfilter.compat import ACCEPTED, compat

    text = _read_filter(args.filter)
    results = [compat(text, args.api)]
    if args.order_by is not None:
        results.append(compat(api=args.api, order_by=args.order_by))
    if args.format == "json":
        data = [r.to_dict() for r in results]
        print(json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(str(r) for r in results))
    from mlfilter.versions import default_version, resolve_backend

    line = args.mlflow_version or default_version()
    backend = resolve_backend(args.backend)
    ok = all(r.cell(line, backend).verdict == ACCEPTED for r in results)
    return EXIT_OK if ok else EXIT_FINDINGS


def _progress():
    """Progress lines on a terminal only (long extractions), on stderr."""
    if not sys.stderr.isatty():
        return None
    return lambda step: print(f"mlfilter: reading {step}...", file=sys.stderr)


def _explain(args) -> int:
    import json

    from mlfilter.checker import FilterError
    from mlfilter.explain import explain

    text = _read_filter(args.filter)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        result = explain(text, args.store, args.experiment, args.view_type)
    except FilterError as e:
        from mlfilter.render import render_text

        print(render_text(e.report), file=sys.stderr)
        return EXIT_FINDINGS
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(result)
    return EXIT_OK


def _schema(args) -> int:
    if args.schema_command != "dump":
        print("mlfilter: usage: mlfilter schema dump --store URI [--experiment ID|NAME ...]",
              file=sys.stderr)
        return EXIT_USAGE
    import json

    from mlfilter.schema import Schema

    schema = Schema.from_store(args.store, args.experiment, _progress())
    if args.output:
        schema.dump(args.output)
    else:
        print(json.dumps(schema.to_dict(), indent=1, sort_keys=True, ensure_ascii=False))
    return EXIT_OK


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


def _lint(args) -> int:
    from mlfilter import config as settings

    try:
        config = settings.load(args.config)
        changes = {}
        if args.select is not None:
            changes["select"] = settings.codes_option(args.select, "--select")
        if args.ignore is not None:
            changes["ignore"] = settings.codes_option(args.ignore, "--ignore")
        if args.exclude is not None:
            changes["exclude"] = tuple(p.strip() for arg in args.exclude for p in arg.split(",")
                                       if p.strip())
        config = config.override(fail_on=args.fail_on, api=args.api,
                                 mlflow_version=args.mlflow_version, backend=args.backend,
                                 **changes)
        config.load_schema()  # a configured snapshot that cannot be read is a usage error
    except settings.ConfigError as e:
        print(f"mlfilter: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    from mlfilter.lint import lint_paths
    from mlfilter.lint import output

    run = lint_paths(args.paths or ["."], config, fix=args.fix or args.diff)
    status = EXIT_OK
    if args.diff:
        diff = _diffs(run)
        _print_lint(diff.rstrip("\n"))
        return EXIT_FINDINGS if diff else EXIT_OK
    if args.fix:
        from mlfilter.lint.runner import write_atomic

        for f in run.files:
            if f.new_text is not None and f.new_text != f.original:
                try:
                    write_atomic(f.path, f.new_text)
                except OSError as e:
                    print(f"mlfilter: cannot write {f.path}: {e.strerror or e}", file=sys.stderr)
                    f.fixed = 0
                    status = EXIT_USAGE
    failed = any(config.fails(r.severity) for r in run.reported)
    if args.format == "json":
        text = output.render_json(run, failed)
    elif args.format == "github":
        text = output.render_github(run)
    elif args.format == "sarif":
        text = output.render_sarif(run)
    else:
        text = output.render_text(run, fix_requested=args.fix)
    _print_lint(text)
    for message in run.internal_errors:
        print(f"mlfilter: internal error, please report it: {message}", file=sys.stderr)
        status = EXIT_USAGE
    if status != EXIT_OK:
        return status
    return EXIT_FINDINGS if failed else EXIT_OK


def _server() -> int:
    try:
        from mlfilter.lsp.server import serve
    except ImportError as e:
        missing = (e.name or "").split(".")[0]
        if missing not in ("pygls", "lsprotocol", "cattrs", "attrs"):
            raise
        print(f"mlfilter: error: `mlfilter server` needs the lsp extra ({missing} is not "
              "installed): pip install 'mlfilter[lsp]'", file=sys.stderr)
        return EXIT_USAGE
    return serve()


def _print_lint(text: str) -> None:
    """Print, and stop quietly when the reader went away (`mlfilter lint | head`)."""
    if not text:
        return
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _diffs(run) -> str:
    import difflib

    out = []
    for f in run.files:
        if f.new_text is None or f.new_text == f.original:
            continue
        old = f.original.decode("utf-8", "surrogateescape").splitlines(keepends=True)
        new = f.new_text.decode("utf-8", "surrogateescape").splitlines(keepends=True)
        out.extend(difflib.unified_diff(old, new, f"a/{f.path}", f"b/{f.path}"))
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in out)
