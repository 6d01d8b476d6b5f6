"""Writes mlfilter/_parser_table.py: the LALR(1) table Lark builds from grammar/filter.lark.

mlfilter runs that table with its own small driver (mlfilter/lalr.py), so checking a filter
never imports Lark (Lark's import alone costs several times a bare Python start-up). The table
records the grammar's SHA-256; mlfilter rebuilds the table with Lark at run time if they differ,
and `--check` (run by the tests) exits 1 when the committed table is stale.

Usage: python tools/gen_parser.py [--check]
"""

import os
import sys
from pathlib import Path

# Lark numbers LALR states in set order, which depends on string hashing: pin the hash seed so
# the generated table (and --check) is the same in every interpreter.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, *sys.argv])

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlfilter.lalr import build_table_source  # noqa: E402

OUT = ROOT / "mlfilter" / "_parser_table.py"
GRAMMAR = ROOT / "grammar" / "filter.lark"

if __name__ == "__main__":
    text = build_table_source(GRAMMAR.read_text(encoding="utf-8"))
    if "--check" in sys.argv:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        sys.exit(0 if current == text else 1)
    OUT.write_text(text, encoding="utf-8")
