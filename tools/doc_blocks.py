"""The fenced code blocks of a Markdown page, as the docs tests read them (tools/doc_examples.py).

A block's meaning comes from its language and from one visible line right before it:

- `_Not run by the docs tests: REASON._`: the block is skipped, for that reason;
- `_File `NAME`:_`: the block is the file NAME of the page's example directory
  (docs/examples/<page>/NAME), and must equal it.

A ```text block right after a ```python block (nothing but blank lines between) is what that
block prints. In shown output, a line `...` stands for any lines, none included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<lang>[\w+-]*)[^\n`]*\n(?P<body>.*?)^(?P=indent)```[ ]*$",
                   re.M | re.S)
NOT_RUN = re.compile(r"^_Not run by the docs tests: (?P<reason>.+)\._$")
FILE = re.compile(r"^_File `(?P<name>[^`]+)`:_$")
RUNNABLE = ("console", "python")
WILDCARD = "..."
MAGIC = re.compile(r"^\s*[%!]", re.M)  # a python block with IPython magics or shell lines


@dataclass
class Block:
    lang: str
    line: int                # 1-based line of the opening fence
    body: str                # the content, without the fence's indentation
    indent: str
    start: int               # offsets of the content in the page (for --update)
    end: int
    skip: str | None = None  # the reason of a Not-run line
    file: str | None = None  # the name of a File line
    output: Block | None = None  # python: the ```text block right after, what it prints
    is_output: bool = False

    @property
    def runnable(self) -> bool:
        return self.lang in RUNNABLE and self.skip is None and self.file is None


def blocks(text: str) -> list[Block]:
    """The page's fenced blocks, in order, with their markers and output blocks."""
    found: list[Block] = []
    previous_end = None
    for m in FENCE.finditer(text):
        indent = m.group("indent")
        body = "".join(line[len(indent):] if line.startswith(indent) else line.lstrip(" ")
                       for line in m.group("body").splitlines(keepends=True))
        block = Block(m.group("lang"), text.count("\n", 0, m.start()) + 1, body, indent,
                      m.start("body"), m.end("body"))
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        if (reason := NOT_RUN.match(before)) is not None:
            block.skip = reason.group("reason")
        elif (name := FILE.match(before)) is not None:
            block.file = name.group("name")
        last = found[-1] if found else None
        if (block.lang == "text" and last is not None and last.lang == "python"
                and text[previous_end:m.start()].strip() == ""):
            last.output, block.is_output = block, True
        found.append(block)
        previous_end = m.end()
    return found


def indented_sessions(text: str) -> list[int]:
    """Lines of indented code blocks (four spaces, after a blank line) that start with `$ `:
    shell sessions that should be ```console blocks, to be run."""
    lines = text.splitlines()
    outside = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text).splitlines()
    return [i + 1 for i, line in enumerate(outside)
            if re.match(r" {4,}\$ ", line) and i > 0 and not outside[i - 1].strip()
            and lines[i] == line]


@dataclass
class Command:
    source: str                   # what the shell runs: the `$ ` line and its `\` continuations
    shown: list[str] = field(default_factory=list)  # the output lines the page shows


def commands(body: str) -> list[Command]:
    """The `$ command` lines of a console block, each with the output shown under it."""
    found: list[Command] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ ") or line == "$":
            source = [line[2:]]
            while source[-1].endswith("\\") and i + 1 < len(lines):
                i += 1
                source.append(lines[i])
            found.append(Command("\n".join(source)))
        elif not found:
            raise ValueError(f"console block: output before the first `$ ` line: {line!r}")
        else:
            found[-1].shown.append(line)
        i += 1
    for command in found:
        while command.shown and not command.shown[-1].strip():
            command.shown.pop()
    return found


def render_console(items: list[tuple[str, list[str]]]) -> str:
    """A console block's content: each command, its output, and a blank line after output."""
    out: list[str] = []
    for n, (source, shown) in enumerate(items):
        out.append("$ " + source)
        out.extend(shown)
        if shown and n + 1 < len(items):
            out.append("")
    return "\n".join(out) + "\n"


def lines_match(shown: list[str], actual: list[str]) -> bool:
    """True when `actual` is `shown`, a `...` line standing for any lines (none included)."""
    memo: dict[tuple[int, int], bool] = {}

    def match(i: int, j: int) -> bool:
        if (i, j) not in memo:
            if i == len(shown):
                memo[i, j] = j == len(actual)
            elif shown[i] == WILDCARD:
                memo[i, j] = match(i + 1, j) or (j < len(actual) and match(i, j + 1))
            else:
                memo[i, j] = j < len(actual) and shown[i] == actual[j] and match(i + 1, j + 1)
        return memo[i, j]

    return match(0, 0)


def replace_bodies(text: str, new_bodies: dict[int, str], found: list[Block]) -> str:
    """The page with the content of some blocks (keyed by their line) replaced."""
    for block in sorted((b for b in found if b.line in new_bodies), key=lambda b: -b.start):
        body = "".join(block.indent + line if line.strip() else line
                       for line in new_bodies[block.line].splitlines(keepends=True))
        text = text[:block.start] + body + text[block.end:]
    return text
