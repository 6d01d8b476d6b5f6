"""`# noqa` comments: which findings they suppress, and which are malformed (MF901) or unused
(MF902).

    x = mlflow.search_runs(filter_string="params.bs = 32")  # noqa: MF201
    # noqa               every mlfilter code on the line (never reported as unused: other
                         linters read it too)
    # noqa: MF2, E501    codes and prefixes; codes of other tools are left to them
    # mlfilter: noqa     anywhere in a file: skip the file; `# mlfilter: noqa: MF3` ignores
                         those codes in the whole file

Comments are found with `tokenize`, so `# noqa` inside a string is not a comment.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

_NOQA = re.compile(r"#\s*noqa\b(?P<colon>\s*:)?(?P<rest>[^#]*)", re.IGNORECASE)
_FILE_NOQA = re.compile(r"#\s*mlfilter\s*:\s*noqa\b(?P<colon>\s*:)?(?P<rest>[^#]*)",
                        re.IGNORECASE)
_ITEM = re.compile(r"[^\s,]+")
_WORD_CODE = re.compile(r"[A-Z]+[0-9]*")
_MF_ITEM = re.compile(r"mf\w*", re.IGNORECASE)
_MF_CODE = re.compile(r"MF[0-9]{0,3}")


@dataclass(slots=True)
class Noqa:
    line: int
    start: int  # offset of the `#` in the scanned text
    codes: tuple[tuple[str, int, int], ...] | None  # None: bare `# noqa`; else (code, start, end)
    used: set = field(default_factory=set)


@dataclass(slots=True)
class NoqaProblem:
    code: str  # MF901
    start: int
    end: int
    message: str
    hint: str


@dataclass(slots=True)
class FileNoqa:
    skip_file: bool = False
    codes: tuple[str, ...] = ()


def _comments(text: str):
    """(offset, line, comment text) of each comment token."""
    starts = [0]
    for line in io.StringIO(text):
        starts.append(starts[-1] + len(line))
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                line, col = tok.start
                yield starts[line - 1] + col, line, tok.string
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return


def _parse_codes(rest: str, base: int, known, problems: list[NoqaProblem]):
    """Codes and prefixes after `noqa:`, with their offsets; free text after them is ignored."""
    codes = []
    for m in _ITEM.finditer(rest):
        item = m.group().strip()
        start = base + m.start()
        if _MF_ITEM.fullmatch(item):
            if not _MF_CODE.fullmatch(item):
                problems.append(NoqaProblem("MF901", start, start + len(item),
                                            f"`{item}` is not an mlfilter code or prefix",
                                            "write codes as MF201, or prefixes as MF2"))
                continue
            if len(item) == 5 and item not in known:
                problems.append(NoqaProblem("MF901", start, start + len(item),
                                            f"`{item}` is not an mlfilter code",
                                            "see `mlfilter rules` for the codes"))
                continue
            codes.append((item, start, start + len(item)))
        elif not _WORD_CODE.fullmatch(item):
            break  # free text: a reason, say
    return codes


def scan(text: str, known) -> tuple[dict[int, list[Noqa]], list[NoqaProblem], FileNoqa]:
    """The noqa comments of a Python text, by line."""
    by_line: dict[int, list[Noqa]] = {}
    problems: list[NoqaProblem] = []
    file_noqa = FileNoqa()
    if "noqa" not in text.lower():
        return by_line, problems, file_noqa
    for offset, line, comment in _comments(text):
        m = _FILE_NOQA.search(comment)
        if m is not None:
            if m.group("colon"):
                base = offset + m.start("rest")
                codes = _parse_codes(m.group("rest"), base, known, problems)
                file_noqa.codes += tuple(c for c, _, _ in codes)
            else:
                file_noqa.skip_file = True
            continue
        m = _NOQA.search(comment)
        if m is None:
            continue
        if not m.group("colon"):
            by_line.setdefault(line, []).append(Noqa(line, offset + m.start(), None))
            continue
        rest = m.group("rest")
        base = offset + m.start("rest")
        if not rest.strip():
            problems.append(NoqaProblem("MF901", offset + m.start(), offset + m.end(),
                                        "`noqa:` without codes", "name the codes (`# noqa: "
                                        "MF201`), or write a bare `# noqa`"))
            continue
        codes = _parse_codes(rest, base, known, problems)
        if codes:
            by_line.setdefault(line, []).append(Noqa(line, offset + m.start(), tuple(codes)))
    return by_line, problems, file_noqa


def suppresses(noqa: Noqa, code: str) -> bool:
    if noqa.codes is None:
        return True
    hit = False
    for item, _, _ in noqa.codes:
        if code.startswith(item):
            noqa.used.add(item)
            hit = True
    return hit


def unused(by_line: dict[int, list[Noqa]], enabled) -> list[NoqaProblem]:
    """MF902 for each listed code or prefix that suppressed nothing (and is enabled)."""
    out = []
    for noqas in by_line.values():
        for noqa in noqas:
            for item, start, end in noqa.codes or ():
                if item not in noqa.used and enabled(item):
                    out.append(NoqaProblem("MF902", start, end,
                                           f"`# noqa: {item}` suppresses nothing on this line",
                                           "remove it"))
    return out
