"""The HTML of a report and of a schema, rendered by a real browser (Debian's headless Chromium).

`--dump-dom` gives the DOM after the browser parsed the page: the highlighted element holds the
mistaken text, and hostile content stayed text. `--screenshot` must show the highlight: pixels of
the highlight's own colour (the error tint over the code block's grey), in a highlight-sized patch.
Screenshots are kept in the test's temporary folder.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib

import pytest

import mlfilter
from test_notebook_display import VALUE, Page, hostile_schema

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install "
                             "chromium; .ci/run installs it when it can)")


def chromium(tmp_path, *args: str) -> str:
    profile = tmp_path / "chromium-profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def page_file(tmp_path, name: str, body: str):
    path = tmp_path / f"{name}.html"
    path.write_text("<!doctype html><html><head><meta charset='utf-8'><title>mlfilter</title>"
                    f"</head><body style='background:#fff'>{body}</body></html>",
                    encoding="utf-8")
    return path


def png_rows(path, max_rows: int):
    """The first rows of an 8-bit RGB(A) non-interlaced PNG, as lists of (r, g, b) tuples."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(min(height, max_rows)):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return width, height, rows


def test_a_report_renders_with_the_mistaken_span_highlighted(tmp_path):
    report = mlfilter.check(f"tags.note = '{VALUE}' AND params.batch_size = 32")
    path = page_file(tmp_path, "report", report._repr_html_())
    dom = Page(chromium(tmp_path, "--dump-dom", path.as_uri()))
    assert dom.by_class["mlfilter-highlight"] == ["32"]
    assert "script" not in dom.tags  # the filter's <script> stayed text
    assert f"tags.note = '{VALUE}' AND params.batch_size = 32" in dom.visible

    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,800", path.as_uri())
    width, height, rows = png_rows(shot, 200)
    assert (width, height) == (1200, 800)
    # rgba(220,40,40,.28) over the code block's rgba(127,127,127,.10)-on-white grey
    grey = 255 * 0.9 + 127 * 0.1
    tint = tuple(round(0.28 * c + 0.72 * grey) for c in (220, 40, 40))
    hits = [(x, y) for y, row in enumerate(rows) for x, px in enumerate(row)
            if all(abs(a - b) <= 3 for a, b in zip(px, tint))]
    assert len(hits) >= 100, (tint, len(hits))  # a patch the size of `32`, not stray pixels
    xs, ys = [x for x, _ in hits], [y for _, y in hits]
    assert max(xs) - min(xs) < 60 and max(ys) - min(ys) < 30  # one small patch


def test_a_schema_renders_its_tables(tmp_path):
    path = page_file(tmp_path, "schema", hostile_schema()._repr_html_())
    dom = Page(chromium(tmp_path, "--dump-dom", path.as_uri()))
    assert "script" not in dom.tags
    assert "run metrics (4 keys)" in dom.visible and "val/loss" in dom.visible
    assert "td" in dom.tags and "details" in dom.tags

    shot = tmp_path / "schema.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,800", path.as_uri())
    width, height, rows = png_rows(shot, 400)
    assert (width, height) == (1200, 800)
    colours = {px for row in rows for px in row}
    assert len(colours) > 20  # text, borders and sample chips, not a blank page
