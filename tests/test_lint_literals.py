"""The literal scanner (mlfilter/lint/literals.py) against Python's own parser.

Properties: for any string value written as any kind of literal (prefixes, quotes, triple
quotes, escapes of every form, implicit concatenation with comments and line breaks between the
pieces), the scanner's characters are the value the parser computes, and the source text of each
character, read back as a literal of the same kind, is that character. And a replacement encoded
for a literal kind reads back as itself (or is refused, for raw literals that cannot hold it).
"""

from __future__ import annotations

import ast
import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mlfilter.lint.literals import Piece, encode_for_piece, read_literal
from mlfilter.lint.sourcemap import SourceText

ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(
    list("'\"\\{}\n\r\t %_`é\N{BULLET}\x00\x7f"))
VALUES = st.text(ALPHABET, max_size=12)


def _escape(ch: str, quote: str, triple: bool, fstring: bool, draw) -> str:
    """One character written in a non-raw literal, in a randomly chosen form."""
    forms = []
    code = ord(ch)
    plain_ok = ch not in ("\\", "\r", "\0") and (triple or ch not in (quote, "\n")) and \
        ch.isprintable() or ch in ("\n",) and triple
    if plain_ok and not (fstring and ch in "{}"):
        forms.append(ch)
    if fstring and ch in "{}":
        forms.append(ch * 2)
    if code < 0x100:
        forms += [f"\\x{code:02x}", f"\\{code:o}", f"\\{code:03o}"]
    if code < 0x10000:
        forms.append(f"\\u{code:04X}")
    forms.append(f"\\U{code:08x}")
    simple = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\", "'": "\\'", '"': '\\"'}
    if ch in simple:
        forms.append(simple[ch])
    try:
        forms.append("\\N{" + unicodedata.name(ch) + "}")
    except ValueError:
        pass
    form = draw(st.sampled_from(forms))
    return form


@st.composite
def literal_sources(draw):
    """(source of a string expression, expected value)."""
    value = draw(VALUES)
    cuts = sorted(draw(st.lists(st.integers(0, len(value)), max_size=3)))
    parts = [value[a:b] for a, b in zip([0, *cuts], [*cuts, len(value)])]
    pieces = []
    for part in parts:
        quote = draw(st.sampled_from(["'", '"']))
        triple = draw(st.booleans())
        fstring = draw(st.booleans())
        raw_ok = all(c.isprintable() and c not in ("\\", quote) or (triple and c == "\n")
                     for c in part) and not part.endswith(quote)
        raw = raw_ok and draw(st.booleans())
        prefix = draw(st.sampled_from(["", "u"] if not (raw or fstring) else [""]))
        prefix += ("r" if raw else "") + ("f" if fstring else "")
        if raw and draw(st.booleans()):
            prefix = prefix.upper()
        body = []
        for i, ch in enumerate(part):
            if raw:
                body.append(ch * 2 if fstring and ch in "{}" else ch)
            else:
                text = _escape(ch, quote, triple, fstring, draw)
                # an octal escape must not swallow a following digit
                if text[1:2].isdigit() and i + 1 < len(part) and part[i + 1] in "01234567":
                    text = f"\\x{ord(ch):02x}" if ord(ch) < 256 else text
                body.append(text)
        body_text = "".join(body)
        delim = quote * 3 if triple else quote
        if triple and body_text.endswith(quote) and not body_text.endswith("\\" + quote):
            body_text = body_text[:-1] + "\\" + quote  # not possible for raw: excluded above
        if body_text.endswith("\\") and not body_text.endswith("\\\\") and raw:
            return draw(literal_sources())
        pieces.append(f"{prefix}{delim}{body_text}{delim}")
    separators = [" ", "\n    ", "  # a comment\n    ", " \\\n    ", "\r\n  "]
    source = pieces[0]
    for piece in pieces[1:]:
        source += draw(st.sampled_from(separators)) + piece
    return source, value


def _read(source: str):
    module = f"x = (\n    {source}\n)\n"
    node = ast.parse(module).body[0].value
    src = SourceText(module)
    start, end = src.node_range(node)
    return module, node, read_literal(module, start, end, node)


@settings(max_examples=400, deadline=None)
@given(literal_sources())
@example(("'a\\nb' \"c\\x41\"", "a\nbcA"))
@example(("r'a\\'b'", "a\\'b"))
@example(('"""a\r\nb"""', "a\nb"))
@example(("f'{{x}}' 'y'", "{x}y"))
def test_scanner_agrees_with_the_parser(case):
    source, value = case
    module, node, lit = _read(source)
    assert eval(compile(ast.Expression(node), "<literal>", "eval")) == value  # noqa: S307
    assert "".join(lit.chars) == value
    for ch, start, end, index in zip(lit.chars, lit.starts, lit.ends, lit.piece):
        piece = lit.pieces[index]
        text = module[start:end]
        if text in ("\r\n", "\r"):
            assert ch == "\n"
            continue
        if len(text) == 1:  # the character itself (a raw backslash too)
            assert text == ch
            continue
        prefix = ("r" if piece.raw else "") + ("f" if piece.fstring else "")
        delim = piece.quote * 3
        assert ast.literal_eval(f"{prefix.replace('f', '')}{delim}{text}{delim}") == ch \
            if not piece.fstring else eval(f"{prefix}{delim}{text}{delim}") == ch  # noqa: S307


def test_placeholders_are_one_element_each():
    module, node, lit = _read("f'a{x!r:>{w}}b{{c}}' f\"{d['k']}\"")
    assert lit.chars == ["a", None, "b", "{", "c", "}", None]
    placeholders = [module[s:e] for c, s, e in zip(lit.chars, lit.starts, lit.ends) if c is None]
    assert placeholders == ["{x!r:>{w}}", "{d['k']}"]
    assert lit.conversions == ["r", ""]


def test_bytes_are_byte_values():
    _, _, lit = _read("b'a\\x41\\101'")
    assert lit.is_bytes and lit.chars == [97, 65, 65]


PIECES = st.builds(Piece, start=st.just(0), body_start=st.just(0), body_end=st.just(0),
                   raw=st.booleans(), is_bytes=st.just(False), fstring=st.booleans(),
                   quote=st.sampled_from(["'", '"']), triple=st.booleans())


@settings(max_examples=400, deadline=None)
@given(VALUES, PIECES)
@example("'32'", Piece(0, 0, 0, False, False, False, "'", True))
@example("x'", Piece(0, 0, 0, True, False, False, "'", True))
def test_encoded_replacement_reads_back(value, piece):
    text = encode_for_piece(value, piece)
    prefix = ("r" if piece.raw else "") + ("f" if piece.fstring else "")
    delim = piece.quote * (3 if piece.triple else 1)
    if text is None:
        assert piece.raw, "only a raw literal may refuse a value"
        assert any(c in value for c in ("\\", piece.quote, "\r")) or not value.isprintable()
        return
    source = f"{prefix}{delim}x{text}x{delim}"  # x: the replacement sits between other text
    assert eval(source) == f"x{value}x"  # noqa: S307
