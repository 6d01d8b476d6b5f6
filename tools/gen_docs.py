"""Writes docs/rules.md (from the rule registry), docs/versions.md (from the version and
backend facts) and docs/api.md (from mlfilter's exports: tools/api_reference.py). `--check`
exits 1 when any of them is stale.

The other pages are written by hand, but what their examples show is not:
`python tools/doc_examples.py --update [FILE ...]` runs the examples of README.md and docs/*.md
and rewrites the outputs they show (tests/test_docs_examples.py checks them)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_reference import api_markdown  # noqa: E402
from mlfilter.docs import rules_markdown, versions_markdown  # noqa: E402

OUTPUTS = {ROOT / "docs" / "rules.md": rules_markdown, ROOT / "docs" / "versions.md": versions_markdown,
           ROOT / "docs" / "api.md": api_markdown}

if __name__ == "__main__":
    stale = False
    for path, render in OUTPUTS.items():
        text = render()
        if "--check" in sys.argv:
            stale = stale or not path.exists() or path.read_text(encoding="utf-8") != text
        else:
            path.write_text(text, encoding="utf-8")
    sys.exit(1 if stale else 0)
