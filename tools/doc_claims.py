"""What a ```python block of the docs claims about its results, and how a result is compared.

An expression statement with a trailing comment claims its value when the comment is a Python
literal: `f.ok  # False`. The literal may go on in the comment-only lines right after it, and a
first line ending with `:` introduces it (`# what MLflow returns:` then `# [{...}]`). After the
literal, `: ` may start prose (`# False: MLflow has no OR`). `# raises NAME` claims that the
statement raises NAME (a dotted name in the block's namespace, or a builtin). Any other comment
is prose, not a claim.

In a literal, `...` is a wildcard: any value, any number of list or tuple items (none
included), and, written as a dict item (`{"code": "MF202", ...}`), any other keys.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

DICT_REST = re.compile(r",\s*\.\.\.\s*}")


@dataclass(frozen=True)
class Claim:
    line: int             # the statement's first line, in the block
    comment: str          # the claim as written
    raises: str | None = None
    value: object = None


class NotALiteral(ValueError):
    pass


def literal(text: str) -> object:
    """A literal's value, `...` included; raises NotALiteral."""
    for candidate in (text, DICT_REST.sub(", ...: ...}", text)):
        try:
            return ast.literal_eval(candidate.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    raise NotALiteral(text)


def _comments(code: str) -> dict[int, tuple[str, bool]]:
    """row -> (comment text without `#`, whether the comment is alone on its line)."""
    found = {}
    lines = code.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            alone = not lines[row - 1][:col].strip()
            found[row] = (token.string[1:].strip(), alone)
    return found


def claims(code: str) -> tuple[dict[int, Claim], list[str]]:
    """The claims of a block, keyed by the first line of their top-level statement, and the
    problems of claims that cannot be read (a `:` line followed by no literal)."""
    tree = ast.parse(code)
    comments = _comments(code)
    found: dict[int, Claim] = {}
    problems: list[str] = []
    for stmt in tree.body:
        if not isinstance(stmt, ast.Expr) or stmt.end_lineno not in comments:
            continue
        first, alone = comments[stmt.end_lineno]
        if alone:
            continue
        rest = []
        row = stmt.end_lineno + 1
        while row in comments and comments[row][1]:
            rest.append(comments[row][0])
            row += 1
        claim = _read(stmt.lineno, first, rest, problems)
        if claim is not None:
            found[stmt.lineno] = claim
    return found, problems


def _read(line: int, first: str, rest: list[str], problems: list[str]) -> Claim | None:
    if first.startswith("raises "):
        name = first.split()[1].rstrip(".,:;")
        return Claim(line, first, raises=name)
    if rest and first.endswith(":"):
        try:
            return Claim(line, " ".join(rest), value=literal(" ".join(rest)))
        except NotALiteral:
            problems.append(f"line {line}: the comment lines after `# {first}` are not a literal")
            return None
    candidates = [" ".join([first, *rest]), first]
    if ": " in first:
        candidates.append(first.split(": ", 1)[0])
    for text in candidates:
        try:
            return Claim(line, text, value=literal(text))
        except NotALiteral:
            continue
    return None


def matches(expected: object, actual: object) -> bool:
    """Whether `actual` is the literal `expected`, its `...` wildcards aside."""
    if expected is Ellipsis:
        return True
    if isinstance(expected, (list, tuple)):
        return type(actual) is type(expected) and _items_match(list(expected), list(actual))
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        keys = set(expected) - {Ellipsis}
        if Ellipsis not in expected and keys != set(actual):
            return False
        return keys <= set(actual) and all(matches(expected[k], actual[k]) for k in keys)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return type(expected) is type(actual) and expected == actual or (
        isinstance(expected, (int, float)) and isinstance(actual, (int, float))
        and expected == actual)


def _items_match(expected: list, actual: list) -> bool:
    if not expected:
        return not actual
    if expected[0] is Ellipsis:
        return any(_items_match(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and matches(expected[0], actual[0]) and _items_match(expected[1:],
                                                                             actual[1:])
