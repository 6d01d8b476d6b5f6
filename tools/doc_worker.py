"""Runs the ```python blocks of one docs page, in order, in one namespace (a child process of
tools/doc_examples.py, so that MLflow's global state and mlfilter.guard() stay in it).

It reads one JSON request a line on stdin: first {"ipython": bool}, then per block {"code",
"filename", "line", "shows_output"}. It answers each on its own channel (the original stdout;
fd 1 then points at stderr, so nothing a block writes can garble the answers) with {"printed",
"failures"}: what the block printed (with, when its output is shown, the exception it ended
with, and in IPython what its last line displays) and the claims it broke.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import doctest
import io
import json
import os
import re
import sys
import traceback
import types

from doc_blocks import MAGIC
from doc_claims import claims, matches


class Page:
    def __init__(self, ipython: bool):
        self.shell = None
        if ipython:
            from IPython.core.interactiveshell import InteractiveShell

            self.shell = InteractiveShell.instance()
            self.shell.displayhook.write_output_prompt = lambda: None
            self.shell.displayhook.write_format_data = (
                lambda data, md=None: print(data["text/plain"]))
            self.namespace = self.shell.user_ns
        else:  # a module of its own, so that classes defined in a block have one
            module = types.ModuleType("docs_example")
            sys.modules[module.__name__] = module
            self.namespace = module.__dict__

    def run(self, code: str, filename: str, line: int, shows_output: bool) -> dict:
        printed = io.StringIO()
        failures: list[str] = []
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            if re.search(r"^>>> ", code, re.M):
                self._doctest(code, filename, line, failures)
            elif self.shell is not None and MAGIC.search(code):
                self._cell(code, shows_output, failures)
            else:
                self._statements(code, filename, line, shows_output, failures)
        return {"printed": printed.getvalue(), "failures": failures}

    def _statements(self, code, filename, line, shows_output, failures):
        found, problems = claims(code)
        failures.extend(f"{filename}:{p}" for p in problems)
        tree = ast.parse(code, filename)
        for stmt in tree.body:
            ast.increment_lineno(stmt, line - 1)
            claim = found.get(stmt.lineno - line + 1)
            where = f"{filename}:{stmt.lineno}"
            try:
                if claim is None:
                    exec(compile(ast.Module([stmt], []), filename, "exec"), self.namespace)
                    continue
                value = eval(compile(ast.Expression(stmt.value), filename, "eval"),
                             self.namespace)
            except Exception as error:  # noqa: BLE001 - a claim, shown output, or a failure
                if claim is not None and claim.raises is not None:
                    if not isinstance(error, self._resolve(claim.raises, failures, where)):
                        failures.append(f"{where}: expected {claim.raises}, got "
                                        + _last_line(error))
                    continue
                if shows_output:
                    print(_last_line(error))
                else:
                    failures.append(f"{where}: raised\n{_traceback(error, filename)}")
                return
            if claim.raises is not None:
                failures.append(f"{where}: expected {claim.raises}, but it gave {value!r}")
            elif not matches(claim.value, value):
                failures.append(f"{where}: expected {claim.comment}\n  got {value!r}")

    def _resolve(self, name: str, failures: list[str], where: str):
        value = self.namespace.get(name.split(".")[0], getattr(builtins, name.split(".")[0], None))
        for part in name.split(".")[1:]:
            value = getattr(value, part, None)
        if not (isinstance(value, type) and issubclass(value, BaseException)):
            failures.append(f"{where}: `raises {name}` names no exception")
            return ()
        return value

    def _doctest(self, code, filename, line, failures):
        test = doctest.DocTestParser().get_doctest(code, self.namespace, filename, filename,
                                                   line)
        report = io.StringIO()
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(test, out=report.write, clear_globs=False)
        if runner.failures:
            failures.append(report.getvalue())

    def _cell(self, code, shows_output, failures):
        raised = []
        self.shell.showtraceback = lambda *a, **k: raised.append(sys.exc_info()[1])
        self.shell.showsyntaxerror = lambda *a, **k: raised.append(sys.exc_info()[1])
        self.shell.run_cell(code, store_history=True)
        for error in raised:
            if shows_output:
                print(_last_line(error))
            else:
                failures.append("raised " + _last_line(error))


def _last_line(error: BaseException) -> str:
    from_ipython = type(error).__module__.startswith("IPython.")
    if from_ipython:
        return f"{type(error).__name__}: {error}"
    return "".join(traceback.format_exception_only(type(error), error)).rstrip("\n")


def _traceback(error: BaseException, filename: str) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    return "".join(traceback.format_list(frames[1:]) if frames else []) + _last_line(error)


def main() -> None:
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), write_through=True)
    page = None
    for request in sys.stdin:
        message = json.loads(request)
        if page is None:
            page = Page(message["ipython"])
            continue
        answer = page.run(message["code"], message["filename"], message["line"],
                          message["shows_output"])
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
