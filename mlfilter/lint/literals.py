"""Python string literals in source text: which source characters each character of a value
comes from, and how to write a replacement back into the same kind of literal.

Lint flow: source -> ast node of a string argument -> `read_literal` (pieces, escapes,
f-string placeholders) -> `Literal`, whose elements map the value back to file offsets.
The scanner is checked against the `ast` module's own value of the node: when they disagree
the literal is not used, so a position is never guessed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

_PREFIX = frozenset("rRbBuUfF")
_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f", "n": "\n",
                   "r": "\r", "t": "\t", "v": "\v"}
_OCTAL = frozenset("01234567")
_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass(slots=True)
class Piece:
    """One literal of an implicitly concatenated string: `f'...'` in `'a' f'...' "c"`."""

    start: int  # file offset of the prefix (or the opening quote)
    body_start: int
    body_end: int  # offset of the closing quote(s)
    raw: bool
    is_bytes: bool
    fstring: bool
    quote: str  # ' or "
    triple: bool


@dataclass(slots=True)
class Literal:
    """The static value of a string expression, one element per value character.

    `chars[i]` is a character of the value, or None for an f-string placeholder (`{expr}`), whose
    content is unknown. `starts[i]`/`ends[i]` are the file offsets of the source text the element
    comes from (an escape such as `\\x41` is four source characters for one value character);
    `piece[i]` indexes `pieces`.
    """

    chars: list
    starts: list[int]
    ends: list[int]
    piece: list[int]
    pieces: list[Piece]
    start: int  # file offsets of the whole expression
    end: int
    is_bytes: bool = False
    leaves: list = field(default_factory=list)  # (literal, first element) of a `+` chain
    conversions: list = field(default_factory=list)  # per placeholder: "r", "a", "s" or ""

    def leaf(self, element: int) -> tuple[Literal, int]:
        """The literal (of a `"a" + NAME` chain) holding `element`, and its first element."""
        found = (self, 0)
        for leaf, first in self.leaves:
            if first <= element:
                found = (leaf, first)
        return found

    @property
    def has_placeholders(self) -> bool:
        return any(c is None for c in self.chars)

    def static_text(self) -> str:
        return "".join(c for c in self.chars if c is not None)


class LiteralError(ValueError):
    """The source does not look like the literal the parser saw: the literal is not used."""


def read_literal(text: str, start: int, end: int, node: ast.AST) -> Literal:
    """Scan text[start:end], the source of a str/bytes constant or f-string node, and check the
    result against the node's value. Raises LiteralError when they disagree."""
    pieces = _split_pieces(text, start, end)
    lit = Literal([], [], [], [], pieces, start, end)
    for index, piece in enumerate(pieces):
        _decode(text, piece, index, lit)
    lit.is_bytes = bool(pieces) and pieces[0].is_bytes
    if signature(lit.chars) != _node_signature(node):
        raise LiteralError("scanner and parser disagree")
    if isinstance(node, ast.JoinedStr):
        lit.conversions = [chr(v.conversion) if v.conversion > 0 else ""
                           for v in node.values if isinstance(v, ast.FormattedValue)]
    return lit


def signature(chars) -> list:
    """Static runs of text and None for each placeholder, as the parser's node shows them."""
    out: list = []
    buf: list = []
    for c in chars:
        if c is None:
            if buf:
                out.append("".join(buf))
                buf = []
            out.append(None)
        else:
            buf.append(c if isinstance(c, str) else chr(c))
    if buf:
        out.append("".join(buf))
    return out


def _node_signature(node: ast.AST) -> list:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        return [value] if value else []
    out: list = []
    for part in node.values:  # type: ignore[attr-defined]
        if isinstance(part, ast.Constant):
            if not part.value:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += part.value
            else:
                out.append(part.value)
        else:
            out.append(None)
    return out


def _split_pieces(text: str, start: int, end: int) -> list[Piece]:
    pieces = []
    pos = start
    while pos < end:
        c = text[pos]
        if c in " \t\f\r\n":
            pos += 1
            continue
        if c == "\\":  # explicit line joining between literals
            pos += 1
            continue
        if c == "#":
            while pos < end and text[pos] not in "\r\n":
                pos += 1
            continue
        p = pos
        while p < end and text[p] in _PREFIX:
            p += 1
        prefix = text[pos:p].lower()
        if p >= end or text[p] not in "'\"" or len(prefix) > 2:
            raise LiteralError(f"no literal at offset {pos}")
        quote = text[p]
        triple = text.startswith(quote * 3, p)
        body_start = p + (3 if triple else 1)
        piece = Piece(pos, body_start, body_start, "r" in prefix, "b" in prefix, "f" in prefix,
                      quote, triple)
        piece.body_end = _body_end(text, piece, end)
        pieces.append(piece)
        pos = piece.body_end + (3 if triple else 1)
    if not pieces:
        raise LiteralError("empty literal")
    return pieces


def _body_end(text: str, piece: Piece, limit: int) -> int:
    closing = piece.quote * 3 if piece.triple else piece.quote
    i = piece.body_start
    while i < limit:
        c = text[i]
        if c == "\\":
            if not piece.raw and text.startswith("N{", i + 1):
                close = text.find("}", i + 3, limit)
                i = close + 1 if close > 0 else i + 2
                continue
            i += 2
            continue
        if piece.fstring and c == "{":
            if text.startswith("{{", i):
                i += 2
                continue
            i = replacement_field_end(text, i, limit)
            continue
        if text.startswith(closing, i):
            return i
        i += 1
    raise LiteralError("unterminated literal")


def replacement_field_end(text: str, i: int, limit: int) -> int:
    """`text[i]` is the `{` of an f-string replacement field: the offset after its `}`. Nested
    brackets and string literals inside the expression are skipped; after a top-level `:` (the
    format spec) only braces count."""
    depth = 0
    in_spec = False
    j = i
    while j < limit:
        c = text[j]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return j + 1
        elif in_spec:
            pass
        elif c == ":" and depth == 1 and not text.startswith(":=", j):
            in_spec = True
        elif c in "'\"":
            j = _skip_string(text, j, limit)
            continue
        elif c == "#":
            raise LiteralError("comment in a replacement field")
        j += 1
    raise LiteralError("unterminated replacement field")


def _skip_string(text: str, j: int, limit: int) -> int:
    quote = text[j]
    closing = quote * 3 if text.startswith(quote * 3, j) else quote
    k = j + len(closing)
    while k < limit:
        if text[k] == "\\":
            k += 2
            continue
        if text.startswith(closing, k):
            return k + len(closing)
        k += 1
    raise LiteralError("unterminated string in a replacement field")


def _add(lit: Literal, char, start: int, end: int, index: int) -> None:
    lit.chars.append(char)
    lit.starts.append(start)
    lit.ends.append(end)
    lit.piece.append(index)


def _decode(text: str, piece: Piece, index: int, lit: Literal) -> None:
    i, end = piece.body_start, piece.body_end
    while i < end:
        c = text[i]
        if c == "\r":  # the tokenizer reads \r\n and a lone \r as \n
            j = i + 2 if text.startswith("\r\n", i) else i + 1
            _add(lit, "\n" if not piece.is_bytes else 10, i, j, index)
            i = j
            continue
        if piece.fstring and c in "{}":
            if text.startswith(c * 2, i):
                _add(lit, c, i, i + 2, index)
                i += 2
                continue
            if c == "}":
                raise LiteralError("single '}' in an f-string")
            j = replacement_field_end(text, i, end)
            _add(lit, None, i, j, index)
            i = j
            continue
        if c != "\\" or piece.raw:
            if piece.raw and c == "\\" and i + 1 < end and text[i + 1] in "\r\n'\"\\":
                # in a raw literal a backslash still keeps the next character from ending it
                _add(lit, c if not piece.is_bytes else ord(c), i, i + 1, index)
                i += 1
                if text[i] == "\r":
                    continue
                c = text[i]
            _add(lit, c if not piece.is_bytes else ord(c), i, i + 1, index)
            i += 1
            continue
        i = _escape(text, i, end, piece, index, lit)


def _escape(text: str, i: int, end: int, piece: Piece, index: int, lit: Literal) -> int:
    nxt = text[i + 1] if i + 1 < end else ""
    wrap = (lambda ch: ord(ch)) if piece.is_bytes else (lambda ch: ch)
    if nxt in ("\n", "\r"):  # backslash-newline: no character
        return i + (3 if text.startswith("\r\n", i + 1) else 2)
    if nxt in _SIMPLE_ESCAPES:
        _add(lit, wrap(_SIMPLE_ESCAPES[nxt]), i, i + 2, index)
        return i + 2
    if nxt in _OCTAL:
        j = i + 1
        while j < end and j < i + 4 and text[j] in _OCTAL:
            j += 1
        value = int(text[i + 1 : j], 8)
        _add(lit, value & 0xFF if piece.is_bytes else chr(value), i, j, index)
        return j
    if nxt == "x":
        digits = text[i + 2 : i + 4]
        if len(digits) != 2 or not set(digits) <= _HEX:
            raise LiteralError("bad \\x escape")
        value = int(digits, 16)
        _add(lit, value if piece.is_bytes else chr(value), i, i + 4, index)
        return i + 4
    if not piece.is_bytes and nxt in ("u", "U"):
        n = 4 if nxt == "u" else 8
        digits = text[i + 2 : i + 2 + n]
        if len(digits) != n or not set(digits) <= _HEX:
            raise LiteralError("bad \\u escape")
        _add(lit, chr(int(digits, 16)), i, i + 2 + n, index)
        return i + 2 + n
    if not piece.is_bytes and nxt == "N" and text.startswith("{", i + 2):
        close = text.find("}", i + 3, end)
        if close < 0:
            raise LiteralError("bad \\N escape")
        import unicodedata

        try:
            ch = unicodedata.lookup(text[i + 3 : close])
        except KeyError as e:
            raise LiteralError("unknown \\N name") from e
        _add(lit, ch, i, close + 1, index)
        return close + 1
    # An unknown escape keeps its backslash (Python warns, but the value has both characters).
    _add(lit, wrap("\\"), i, i + 1, index)
    return i + 1


# ---- writing back -----------------------------------------------------------------------------

def encode_for_piece(value: str, piece: Piece) -> str | None:
    """Source text that reads back as `value` inside `piece`'s body, or None when this kind of
    literal cannot hold it (a raw literal cannot escape a quote or a backslash)."""
    out = []
    for ch in value:
        if piece.fstring and ch in "{}":
            out.append(ch * 2)
            continue
        if piece.raw:
            if ch == "\\" or ch == piece.quote or not ch.isprintable() and ch != "\n":
                return None
            if ch == "\n" and not piece.triple:
                return None
            out.append(ch)
            continue
        if piece.is_bytes and not ch.isascii():
            return None
        if ch == "\\" or ch == piece.quote:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif not ch.isprintable():
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)
