"""Writes docs/rules.md from the rule registry. `--check` exits 1 when the file is stale."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlfilter.docs import rules_markdown  # noqa: E402

OUT = ROOT / "docs" / "rules.md"

if __name__ == "__main__":
    text = rules_markdown()
    if "--check" in sys.argv:
        sys.exit(0 if OUT.exists() and OUT.read_text(encoding="utf-8") == text else 1)
    OUT.write_text(text, encoding="utf-8")
