"""`shlex.split` in linear time: MLflow splits order_by entries with it, and the standard
library's version grows its token one character at a time (quadratic on a 1 MB entry).

POSIX rules, as `shlex.split(s)` applies them: words end at unquoted whitespace; single quotes
keep everything; in double quotes a backslash escapes only `"` and `\\`; outside quotes a
backslash escapes any character; quotes are removed and `''` is an empty word. Unbalanced
quotes and a trailing backslash raise ValueError, with shlex's messages.
"""

from __future__ import annotations

import re

_WHITESPACE = " \t\r\n"
# the runs a word is made of: plain text, a single-quoted part, a double-quoted part (its
# escapes resolved below), an escaped character
_PART = re.compile(r"""[^ \t\r\n'"\\]+|'[^']*'|"(?:[^"\\]|\\.)*"|\\.""", re.S)
_ESCAPE_IN_DOUBLE = re.compile(r'\\([\\"])')


def split(text: str) -> list[str]:
    words: list[str] = []
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= n:
            return words
        pieces = []
        while pos < n and text[pos] not in _WHITESPACE:
            m = _PART.match(text, pos)
            if m is None:
                # an open quote runs to the end; shlex reports a last lone backslash first
                escaped_end = text[pos] != "'" and (len(text) - len(text.rstrip("\\"))) % 2
                raise ValueError("No escaped character" if escaped_end else "No closing quotation")
            part = m.group()
            if part[0] == "'":
                pieces.append(part[1:-1])
            elif part[0] == '"':
                pieces.append(_ESCAPE_IN_DOUBLE.sub(r"\1", part[1:-1]))
            elif part[0] == "\\":
                pieces.append(part[1])
            else:
                pieces.append(part)
            pos = m.end()
        words.append("".join(pieces))
