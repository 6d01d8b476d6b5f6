"""Which files `mlfilter lint` reads: directories walked for .py and .ipynb files, minus the
usual tool directories, `exclude` patterns and what .gitignore files ignore.

.gitignore files are read here, not through git: patterns, `!` negation, a trailing `/` for
directories only, `*`, `?`, `[...]` and `**`, anchoring by a leading or inner `/`, nested
.gitignore files (deeper ones win) and .git/info/exclude. Like git, a file inside an ignored
directory stays ignored whatever a later `!` says. Not read: git's global excludes file.
Paths named on the command line are always linted unless an `exclude` pattern matches them.
"""

from __future__ import annotations

import os
import re

# Directories never walked into (still linted when named on the command line).
DEFAULT_EXCLUDED_DIRS = frozenset({
    ".bzr", ".direnv", ".eggs", ".git", ".hg", ".ipynb_checkpoints", ".mypy_cache", ".nox",
    ".pytest_cache", ".ruff_cache", ".svn", ".tox", ".venv", "__pycache__", "__pypackages__",
    "_build", "build", "dist", "node_modules", "site-packages", "venv",
})
SUFFIXES = (".py", ".ipynb")


def _translate(pattern: str) -> str:
    """A gitignore glob (without anchoring slash or trailing slash) as a regex body."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i) and (i == 0 or pattern[i - 1] == "/"):
                if pattern.startswith("**/", i):
                    out.append("(?:.*/)?")
                    i += 3
                    continue
                if i + 2 == n:
                    out.append(".*")
                    i += 2
                    continue
            while i < n and pattern[i] == "*":
                i += 1
            out.append("[^/]*")
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : j]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


class Rule:
    __slots__ = ("base", "regex", "negate", "dir_only", "pattern")

    def __init__(self, base: str, line: str):
        self.pattern = line
        self.negate = line.startswith("!")
        if self.negate:
            line = line[1:]
        self.dir_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        line = line.lstrip("/")
        body = _translate(line)
        self.regex = re.compile(("" if anchored else "(?:.*/)?") + body + r"\Z", re.DOTALL)
        self.base = base  # relative directory of the .gitignore ("" for the root)


def parse_lines(base: str, lines) -> list[Rule]:
    rules = []
    for line in lines:
        line = line.rstrip("\r\n")
        if not line or line.startswith("#"):
            continue
        # trailing spaces are dropped unless escaped with a backslash
        stripped = line.rstrip(" ")
        if stripped.endswith("\\") and len(stripped) < len(line):
            stripped += " "
        if not stripped:
            continue
        rules.append(Rule(base, stripped))
    return rules


class Ignorer:
    """Decides, for paths relative to `root`, whether they are ignored."""

    def __init__(self, root: str, excludes=(), gitignore: bool = True):
        self.root = root
        self.gitignore = gitignore
        self.rules: list[Rule] = []
        self.excludes = parse_lines("", excludes)
        self._loaded: set[str] = set()
        if gitignore:
            self._read(os.path.join(root, ".git", "info", "exclude"), "")

    def _read(self, path: str, base: str) -> None:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                self.rules.extend(parse_lines(base, f))
        except OSError:
            pass

    def load_dir(self, rel_dir: str) -> None:
        """Read the .gitignore of a directory (relative to root) once."""
        if not self.gitignore or rel_dir in self._loaded:
            return
        self._loaded.add(rel_dir)
        self._read(os.path.join(self.root, rel_dir, ".gitignore"), rel_dir)

    @staticmethod
    def _match(rules, rel: str, is_dir: bool):
        verdict = None
        for rule in rules:
            if rule.dir_only and not is_dir:
                continue
            if rule.base:
                if not rel.startswith(rule.base + "/"):
                    continue
                sub = rel[len(rule.base) + 1 :]
            else:
                sub = rel
            if rule.regex.match(sub):
                verdict = not rule.negate
        return verdict

    def ignored(self, rel: str, is_dir: bool) -> bool:
        """`rel` alone (its parents are the caller's business: a walk never enters them)."""
        if self.excludes and self._match(self.excludes, rel, is_dir):
            return True
        return bool(self.rules) and bool(self._match(self.rules, rel, is_dir))

    def excluded_with_parents(self, rel: str, is_dir: bool) -> bool:
        """Whether an `exclude` pattern matches `rel` or one of its parent directories."""
        parts = rel.split("/")
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if self._match(self.excludes, sub, is_dir or i < len(parts)):
                return True
        return False


def project_root(start: str) -> str | None:
    """The enclosing git work tree (a directory with .git), if any."""
    here = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def discover(paths, config):
    """Yield (path to open, path to show, explicit) for every file to lint, in order."""
    root = os.path.abspath(config.root)
    git_root = project_root(root) if config.respect_gitignore else None
    ignorer = Ignorer(git_root or root, config.exclude, config.respect_gitignore)
    exclude_root = Ignorer(root, config.exclude, gitignore=False)
    for given in paths:
        absolute = os.path.abspath(given)
        if not os.path.isdir(absolute):
            if not excluded(absolute, config, exclude_root):
                yield given, given, True
            continue
        base = ignorer.root
        start_rel = _rel(absolute, base)
        if start_rel is None:  # outside the project: only its own .gitignore files count
            base, start_rel = absolute, ""
            ignorer = Ignorer(base, config.exclude, config.respect_gitignore)
        else:
            # .gitignore files of the directories above the one named
            parts = start_rel.split("/") if start_rel else []
            for i in range(len(parts)):
                ignorer.load_dir("/".join(parts[:i]))
            if config.exclude and start_rel and _rel(absolute, root) is not None and \
                    exclude_root.excluded_with_parents(_rel(absolute, root), True):
                continue
        yield from _walk(absolute, given, start_rel, ignorer)


def excluded(path: str, config, ignorer: Ignorer | None = None) -> bool:
    """Whether an `exclude` pattern of `config` matches a file named explicitly (on the command
    line, or open in an editor); .gitignore does not count for such files."""
    if not config.exclude:
        return False
    root = os.path.abspath(config.root)
    rel = _rel(os.path.abspath(path), root)
    if rel is None:
        return False
    ignorer = ignorer or Ignorer(root, config.exclude, gitignore=False)
    return ignorer.excluded_with_parents(rel, False)


def _rel(path: str, root: str) -> str | None:
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive (Windows)
        return None
    if rel == os.curdir:
        return ""
    if rel.startswith(os.pardir):
        return None
    return rel.replace(os.sep, "/")


def _walk(directory: str, shown: str, rel: str, ignorer: Ignorer):
    ignorer.load_dir(rel)
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        yield directory, shown, True  # reported by the runner as unreadable
        return
    for entry in entries:
        name = entry.name
        child_rel = f"{rel}/{name}" if rel else name
        child_shown = os.path.join(shown, name) if shown not in ("", os.curdir) else name
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            if name in DEFAULT_EXCLUDED_DIRS or ignorer.ignored(child_rel, True):
                continue
            yield from _walk(entry.path, child_shown, child_rel, ignorer)
        elif name.endswith(SUFFIXES) and not ignorer.ignored(child_rel, False):
            yield entry.path, child_shown, False
