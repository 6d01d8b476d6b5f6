"""`mlfilter lint`: every MLflow search call in .py files and notebooks, checked where it stands.

Lint flow: paths -> files.discover -> filelint.lint_file (scan_py, evaluate, noqa) -> Reported
records -> output.render_*. Only the standard library and mlfilter's checker are imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlfilter.lint.runner import FileResult, Reported, lint_source

__all__ = ["LintRun", "Reported", "lint_example", "lint_paths", "lint_source"]


@dataclass
class LintRun:
    files: list[FileResult] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)

    @property
    def reported(self) -> list[Reported]:
        return [r for f in self.files for r in f.reported]

    @property
    def checked(self) -> int:
        return len(self.files)

    @property
    def fixed(self) -> int:
        return sum(f.fixed for f in self.files)


def lint_paths(paths, config, fix: bool = False) -> LintRun:
    """Lint files and directories; with `fix`, each FileResult carries its fixed bytes in
    `new_text` (the caller writes them, or shows a diff)."""
    from mlfilter.lint.files import discover
    from mlfilter.lint.filelint import lint_file

    run = LintRun()
    seen = set()
    for path, shown, _explicit in discover(paths, config):
        key = path
        if key in seen:
            continue
        seen.add(key)
        try:
            run.files.append(lint_file(path, shown, config, fix=fix))
        except Exception as e:  # a bug in mlfilter: say so, and lint the other files
            run.internal_errors.append(f"{shown}: {type(e).__name__}: {e}")
    return run


def lint_example(source: str, path: str = "example.py", config=None) -> str:
    """What `mlfilter lint` prints for a Python source text, without the summary line: for the
    rule reference of the MF6xx/MF9xx codes, whose examples are Python source."""
    from mlfilter.config import Config
    from mlfilter.lint.filelint import lint_text
    from mlfilter.lint.output import render_text

    run = LintRun([lint_text(source, path, config or Config())])
    return "\n".join(line for line in render_text(run).splitlines()
                     if not line.startswith("Found "))
