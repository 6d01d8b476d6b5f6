"""One lint of an open document through the lint layer, as the server keeps it until the next
change: what `mlfilter lint` reports for each part (the .py file, or each notebook cell), and,
computed on first use, the search arguments that hover and completion look at.

Server flow: editor documents -> Snapshot (texts and versions, taken on the event loop) ->
analyze (worker thread) -> Analysis -> diagnostics.py / actions.py / hover.py / completion.py.
Nothing here knows LSP types.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from mlfilter.lint.runner import Reported

PYTHON, NOTEBOOK, IPYNB = "python", "notebook", "ipynb"


@dataclass(frozen=True)
class PartText:
    uri: str
    version: int | None
    text: str
    cell_type: str | None = None  # notebooks: "code", "markdown" or "raw"


@dataclass(frozen=True)
class Snapshot:
    key: str  # the document's URI, or the notebook's
    kind: str  # PYTHON, NOTEBOOK or IPYNB (a notebook open as its JSON text)
    path: str | None  # on disk, for the settings; None for an unsaved document
    version: int | None
    parts: tuple[PartText, ...]

    @property
    def versions(self) -> tuple:
        return (self.version, *(p.version for p in self.parts), *(p.uri for p in self.parts))


@dataclass
class Part:
    uri: str
    text: str
    reported: list[Reported] = field(default_factory=list)
    base: int | None = None  # offset of this part in Analysis.source (None: not in it)


@dataclass
class Analysis:
    snapshot: Snapshot
    config: object
    parts: dict[str, Part]
    source: str = ""  # the Python text the arguments are found in (a notebook's joined cells)
    error: str | None = None  # a settings problem to show the user
    _parsed: object = None
    _arguments: list | None = None
    _fixed: dict | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def kind(self) -> str:
        return self.snapshot.kind

    def arguments(self) -> list:
        """The search arguments of `source` (lint.arguments.Argument), found once."""
        with self._lock:
            if self._arguments is None:
                self._arguments = self._find_arguments()
            return self._arguments

    def _find_arguments(self) -> list:
        from mlfilter.lint.arguments import search_arguments

        if self.kind == IPYNB or not self.source:
            return []
        return search_arguments(self.source, self._parsed, self.config.api)


def analyze(snapshot: Snapshot, config, error: str | None = None, parser=None) -> Analysis:
    """Lint the snapshot with `config` (Config from [tool.mlfilter]); `parser` is the
    document's lint.incremental.IncrementalParser, kept between its versions."""
    from mlfilter.config import ConfigError

    try:
        config.load_schema()
    except ConfigError as e:  # the snapshot went away since the settings were read
        from dataclasses import replace

        config, error = replace(config, schema=None), str(e)
    parts = {p.uri: Part(p.uri, p.text) for p in snapshot.parts}
    analysis = Analysis(snapshot, config, parts, error=error)
    if snapshot.kind == PYTHON:
        _python(analysis, snapshot.parts[0], parser)
    elif snapshot.kind == NOTEBOOK:
        _notebook(analysis, snapshot.parts)
    else:
        _ipynb(analysis, snapshot.parts[0])
    return analysis


def _size(texts) -> int:
    return sum(len(t) if t.isascii() else len(t.encode("utf-8", "surrogatepass")) for t in texts)


def _skipped(analysis: Analysis, part: Part, texts) -> bool:
    """MF912 for a document over max-file-size (nothing else is read), as `mlfilter lint`."""
    from mlfilter.lint.filelint import too_large
    from mlfilter.rules.registry import severity

    config = analysis.config
    if sum(len(t) for t in texts) * 4 <= config.max_file_size:  # certainly small enough
        return False
    message = too_large(_size(texts), config)
    if message is None:
        return False
    if config.enabled("MF912"):
        part.reported.append(Reported(part.uri, "MF912", severity("MF912").value, message, None,
                                      1, 1, 1, 1))
    return True


def _python(analysis: Analysis, part_text: PartText, parser=None) -> None:
    from mlfilter.lint.filelint import lint_text, might_have_calls
    from mlfilter.lint.runner import _Skip, parse_text

    part = analysis.parts[part_text.uri]
    text = part_text.text
    if _skipped(analysis, part, [text]) or not might_have_calls(text):
        return  # the cheap test: as `mlfilter lint`, a file without a search call is not parsed
    config = analysis.config
    try:
        if parser is not None:
            tree, pieces = parser.parse(text)
            parsed = parse_text(text, config.api, tree, pieces)
        else:
            parsed = parse_text(text, config.api)
    except _Skip:
        parsed = None  # lint_text reports why (MF913)
    part.reported = lint_text(text, part_text.uri, config, parsed).reported
    if parsed is not None:
        analysis.source, analysis._parsed, part.base = text, parsed, 0


def _notebook(analysis: Analysis, parts) -> None:
    from mlfilter.lint.filelint import _joined, lint_cells, might_have_calls
    from mlfilter.lint.notebook import Notebook

    cells = [(p.cell_type or "raw", p.text) for p in parts]
    first = analysis.parts[parts[0].uri] if parts else None
    if first is None or _skipped(analysis, first, [t for _, t in cells]):
        return
    if not any(might_have_calls(t) for kind, t in cells if kind == "code"):
        return
    for r in lint_cells(cells, analysis.snapshot.key, analysis.config).reported:
        uri = parts[r.cell - 1].uri if r.cell and r.cell <= len(parts) else parts[0].uri
        analysis.parts[uri].reported.append(r)
    nb = Notebook.from_cells(cells)
    joined, _bad = _joined(nb)
    if joined is None:
        return
    analysis.source = joined
    for k, index in enumerate(nb.cell_index):
        analysis.parts[parts[index].uri].base = nb.cell_starts[k]


def _ipynb(analysis: Analysis, part_text: PartText) -> None:
    """A notebook open as JSON text: positions are in the JSON (`file_pos`); the fixes are in
    cell coordinates, so only fix-all (which rewrites the JSON strings) applies."""
    from mlfilter.lint.filelint import lint_notebook_text, might_have_calls

    part = analysis.parts[part_text.uri]
    text = part_text.text
    if _skipped(analysis, part, [text]) or not might_have_calls(text):
        return
    for r in lint_notebook_text(text, part_text.uri, analysis.config).reported:
        if r.file_pos is None:
            continue
        r.line, r.col, r.end_line, r.end_col = r.file_pos
        r.fix = None
        part.reported.append(r)


def fixed_texts(analysis: Analysis) -> dict[str, str]:
    """Every part's text with all safe fixes applied (fix-all), by URI; parts left unchanged are
    left out. Computed once per analysis."""
    with analysis._lock:
        if analysis._fixed is None:
            analysis._fixed = _fix_all(analysis)
        return analysis._fixed


def _fix_all(analysis: Analysis) -> dict[str, str]:
    from mlfilter.lint.filelint import fix_cells, fix_notebook_text
    from mlfilter.lint.runner import fix_text

    snap, config = analysis.snapshot, analysis.config
    if snap.kind != IPYNB and not any(r.fix and r.fix["applicability"] == "safe"
                                      for p in analysis.parts.values() for r in p.reported):
        return {}
    if snap.kind == PYTHON:
        new = [fix_text(snap.parts[0].text, config)[0]]
    elif snap.kind == IPYNB:
        new = [fix_notebook_text(snap.parts[0].text, config)[0]]
    else:
        new = fix_cells([(p.cell_type or "raw", p.text) for p in snap.parts], config)[0]
    return {p.uri: text for p, text in zip(snap.parts, new) if text != p.text}
