"""Text -> tokens, following the tokenizer of sqlparse (the library MLflow parses filters with).

The first step of the flow. Where sqlparse and a naive SQL lexer differ, sqlparse wins, because
its token classes decide what MLflow accepts: `'it''s'` is one string, `1_000` is a word,
`NOT  LIKE` is one comparator, `.5` is a number and `1.e3` is not, and a word such as `version`
is an SQL keyword. Positions are half-open offsets into the original text.
"""

from __future__ import annotations

import re
import sys

from mlfilter._sqlparse_words import AFTER_DOT_KEYWORDS, KEYWORDS

# Token types the grammar knows (grammar/filter.lark declares them), plus the ones it does not
# know (WS and COMMENT are dropped, the rest make a syntax error the classifier explains).
GRAMMAR_TYPES = frozenset(
    "NAME SQ DQ NUMBER OP LIKE IS NOT_NULL NULL AND OR NOT IN LPAR RPAR COMMA DIRECTION ARITH LIST"
    .split()
)

# Words that are tokens of their own (case-insensitive, as in SQL).
_KEYWORD_TYPES = {
    "AND": "AND",
    "OR": "OR",
    "NOT": "NOT",
    "IS": "IS",
    "IN": "IN",
    "NULL": "NULL",
    "BETWEEN": "BETWEEN",
}

# sqlparse's letter class `[A-ZÀ-Ü]` under re.IGNORECASE.
_L = "A-Za-zÀ-Üà-ü"

# The body of a quoted token: a doubled quote, a backslash-escaped quote or any other
# character. From Python 3.11, runs of plain characters match as one atomic chunk (ten times
# faster on a long string, same matches); without atomic groups that chunk would backtrack
# exponentially on an unterminated string, so 3.10 keeps one character at a time.
def _body(q: str) -> str:
    if q == "`":  # no backslash escapes in backticks
        return "(?:[^`]++|``)*" if sys.version_info >= (3, 11) else "(?:``|[^`])*"
    if sys.version_info >= (3, 11):
        return f"(?:[^{q}\\\\]++|{q}{q}|\\\\{q}|\\\\)*"
    return f"(?:{q}{q}|\\\\{q}|[^{q}])*"


_SQ_BODY, _DQ_BODY, _BQ_BODY = _body("'"), _body('"'), _body("`")

# One alternation, tried in sqlparse's order: the first alternative that matches wins.
_TOKEN_RE = re.compile(
    rf"""
    (?P<COMMENT>(?:--|\#\ ).*?(?:\r\n|\r|\n|$)|/\*[\s\S]*?\*/)
  | (?P<WS>\s+)
  | (?P<BQ>`{_BQ_BODY}`)
  | (?P<NOT_NULL>NOT\s+NULL\b)
  | (?P<DIRECTION>(?:ASC|DESC)(?:\s+NULLS\s+(?:FIRST|LAST))?\b)
  | (?P<LIKE>(?:NOT\s+)?(?:LIKE|ILIKE|RLIKE)\b|(?:NOT\s+)?REGEXP(?:\s+BINARY)?\b)
  | (?P<HEX>-?0x[0-9A-F]+)
  | (?P<FLOAT>-?\d+(?:\.\d+)?E-?\d+|(?![_{_L}])-?(?:\d+\.\d*|\.\d+)(?![_{_L}]))
  | (?P<INT>(?![_{_L}])-?\d+(?![_{_L}]))
  | (?P<SQ>'{_SQ_BODY}')
  | (?P<DQ>"{_DQ_BODY}")
  | (?P<BRACKET>(?<![\w\])])\[[^\]\[]+\])
  | (?P<WORD>\w[$\#\w]*)
  | (?P<DOT>\.)
  | (?P<LPAR>\()
  | (?P<RPAR>\))
  | (?P<COMMA>,)
  | (?P<SEMI>;)
  | (?P<OP>[<>=~!]+)
  | (?P<UNTERMINATED>['"`][\s\S]*)
  | (?P<ARITH>[+/%^&|*-]+)
  | (?P<OTHER>[@\#:?\[\]$]+|.)
    """,
    re.IGNORECASE | re.VERBOSE,
)

# A word right after a dot: sqlparse reads `[A-ZÀ-Ü]\w*` there (no `$` or `#`).
_AFTER_DOT_WORD = re.compile(rf"[{_L}]\w*|\w+")
_WORD = re.compile(r"\w[$#\w]*")
_QUOTED_SEGMENT = {
    "`": re.compile(f"`{_BQ_BODY}`"),
    '"': re.compile(f'"{_DQ_BODY}"'),
    "'": re.compile(f"'{_SQ_BODY}'"),
}


class Token:
    """One token: its grammar type, its exact text and its half-open span. (A plain slotted
    class: tokens are internal, and each dataclass costs start-up time on the lint path.)"""

    __slots__ = ("type", "text", "start", "end", "parts", "keyword")

    def __init__(self, type: str, text: str, start: int, end: int,
                 parts: tuple[str, ...] = (), keyword: bool = False):
        self.type = type
        self.text = text
        self.start = start
        self.end = end
        # NAME: the dotted segments as written (quotes kept); NUMBER: "INT", "FLOAT" or "HEX".
        self.parts = parts
        # NAME: a segment sqlparse would read as an SQL keyword.
        self.keyword = keyword

    def __repr__(self) -> str:
        return f"Token({self.type}, {self.text!r}, {self.start}, {self.end})"


def _segment_at(text: str, pos: int, after_dot: bool) -> re.Match | None:
    """Match one segment of a dotted name at `pos`: a word, `backticks` or "double quotes"
    (and, after a dot only, 'single quotes')."""
    quoted = _QUOTED_SEGMENT.get(text[pos : pos + 1])
    if quoted is not None and (after_dot or text[pos] != "'"):
        return quoted.match(text, pos)
    if after_dot and text[pos : pos + 1].isdigit():
        # No name rule of sqlparse's starts with a digit, so its lexer tries them all in order:
        # `0xff` (of `metrics.0xffloss`) is a hex number and `1e5` a float, not a key.
        m = _TOKEN_RE.match(text, pos)
        if m.lastgroup != "WORD":
            return None
    return (_AFTER_DOT_WORD if after_dot else _WORD).match(text, pos)


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens, dropping whitespace; comments are kept so the grammar rejects
    them at the right place. Linear in the length of the text."""
    tokens: list[Token] = []
    pairs: dict[int, int] | None = None
    pos, n = 0, len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        kind = m.lastgroup
        start, end = m.start(), m.end()
        if kind == "WS":
            pos = end
            continue
        if kind in ("WORD", "BQ", "DQ", "BRACKET") and _chain_follows(text, end):
            tok = _name_chain(text, start)
        elif kind == "WORD":
            upper = m.group().upper()
            if upper in _KEYWORD_TYPES:
                tok = Token(_KEYWORD_TYPES[upper], m.group(), start, end)
            else:
                tok = Token("NAME", m.group(), start, end, (m.group(),), upper in KEYWORDS)
        elif kind in ("BQ", "BRACKET"):  # sqlparse reads [x] as a name (SQLite's quoting)
            tok = Token("NAME", m.group(), start, end, (m.group(),))
        elif kind in ("INT", "FLOAT", "HEX"):
            tok = Token("NUMBER", m.group(), start, end, (kind,))
        elif kind == "LPAR" and tokens and tokens[-1].type in _VALUE_BEFORE:
            if pairs is None:
                pairs = _paren_pairs(text)
            end_of_list = pairs.get(start)
            tok = (Token("LIST", text[start:end_of_list], start, end_of_list)
                   if end_of_list is not None else Token("LPAR", "(", start, end))
        elif kind == "UNTERMINATED":
            tok = Token("UNTERMINATED", m.group(), start, end)
        else:
            tok = Token(kind, m.group(), start, end)
        tokens.append(tok)
        pos = tok.end
    return tokens


# A `(` right after these starts a value: a list, kept whole as MLflow keeps its text.
_VALUE_BEFORE = frozenset({"IN", "OP", "LIKE"})


def _paren_pairs(text: str) -> dict[int, int]:
    """Offset of each `(` -> end offset of its `)`, matched in one pass over the tokens (strings
    and comments skipped), as sqlparse groups parentheses. Unclosed ones are absent."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        kind = m.lastgroup
        if kind == "LPAR":
            stack.append(m.start())
        elif kind == "RPAR" and stack:
            pairs[stack.pop()] = m.end()
        pos = m.end()
    return pairs


def sqlparse_token_count(text: str, limit: int | None = None) -> int:
    """How many tokens sqlparse's lexer makes of `text` (each whitespace character is one),
    counting no further than past `limit`. sqlparse refuses to group statements of more than
    10,000 tokens, so MLflow rejects them."""
    count, pos = 0, 0
    while pos < len(text) and (limit is None or count <= limit):
        m = _TOKEN_RE.match(text, pos)
        if m.lastgroup == "WS":
            count += len(m.group()) - m.group().count("\r\n")
        else:
            count += 1
        pos = m.end()
    return count


# Optional spaces, then a dot that does not start a number (`a.5` is a name and the number .5).
_DOT_AHEAD = re.compile(rf"\s*\.(?!\d+(?![_{_L}]))")


_DOT_DIGIT = re.compile(r"\s*\.\d")


def number_after_dot(tokens: list[Token]) -> int | None:
    """The index of the first name that ends with a dot right before a number (`metrics.` and
    `0x1a` of `metrics.0x1a`): sqlparse reads a hexadecimal or exponent number there, not a key."""
    for i in range(len(tokens) - 1):
        name, number = tokens[i], tokens[i + 1]
        if name.type == "NAME" and name.parts and name.parts[-1] == "" and \
                name.text.endswith(".") and number.type == "NUMBER" and \
                number.start == name.end and number.text[:1].isdigit():
            return i
    return None


def glued_end(tokens: list[Token], i: int) -> int:
    """Where the text glued to tokens[i] (names and numbers, no space between) ends."""
    end, j = tokens[i].end, i + 1
    while j < len(tokens) and tokens[j].start == end and tokens[j].type in ("NAME", "NUMBER"):
        end, j = tokens[j].end, j + 1
    return end


def _chain_follows(text: str, end: int) -> bool:
    """True when a dot follows a name segment (spaces allowed, as sqlparse's group_period skips
    them), so the two belong to one dotted name. sqlparse reads `a.5` as a name and the number
    `.5`, but `a.5x` as one dotted name."""
    nxt = text[end : end + 1]
    return (nxt == "." or nxt.isspace()) and _DOT_AHEAD.match(text, end) is not None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


_SPECIAL_NAME = re.compile(rf"(?:@|##|#)[{_L}]\w+|\*|(?<![\w\])])\[[^\]\[]+\]")


def _name_chain(text: str, start: int) -> Token:
    """Read a dotted name (`tags.mlflow.runName`, ``metrics.`my loss` ``, `tags.`) from `start`.
    Like sqlparse's group_period, spaces may surround the dots and a segment may be missing
    (`tags..k`); MLflow then reads the text as it is (`tags. k` has the key " k")."""
    parts: list[str] = []
    keyword = False
    m = _segment_at(text, start, after_dot=False) or _SPECIAL_NAME.match(text, start)
    parts.append(m.group())
    pos = m.end()
    # sqlparse takes a word as a name when a dot follows it, but not when a digit follows that
    # dot (`parameters.1abc`): the word is then a keyword if it is one.
    if m.group().upper() in KEYWORDS and _DOT_DIGIT.match(text, pos):
        keyword = True
    while True:
        dot = _DOT_AHEAD.match(text, pos) if text[pos : pos + 1] in (".", " ", "\t", "\n") or \
            text[pos : pos + 1].isspace() else None
        if dot is None:
            break
        pos = dot.end()
        seg_at = _skip_space(text, pos)
        adjacent = seg_at == pos
        m = _segment_at(text, seg_at, after_dot=True) or _SPECIAL_NAME.match(text, seg_at)
        if m is None or m.end() == seg_at:
            parts.append("")  # a trailing dot: MLflow reads an empty key
            continue
        seg = m.group()
        if not adjacent and seg.upper() in KEYWORDS:
            parts.append("")  # after a space, sqlparse reads the keyword as a keyword
            break
        # sqlparse reads a few keywords even right after a dot (`tags.from`), splitting the name.
        if adjacent and seg.upper() in AFTER_DOT_KEYWORDS:
            keyword = True
        parts.append(seg)
        pos = m.end()
    return Token("NAME", text[start:pos], start, pos, tuple(parts), keyword)
