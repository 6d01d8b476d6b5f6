"""`mlfilter server`: the language server (LSP over stdio, on pygls and lsprotocol).

Server flow: didOpen/didChange (documents.py) -> scheduler.py (debounce, one lint at a time) ->
Snapshot -> analysis.py on the lint thread (the lint layer's per-file functions, settings from
settings.py) -> publishDiagnostics (diagnostics.py). Code actions, hover and completion read the
analysis of the document's current version (actions.py, hover.py, completion.py).

No handler can take the server down: each catches what it raises, logs it to the editor, and
answers nothing rather than an error the editor would show on every keystroke.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
import traceback

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.uris import to_fs_path

from mlfilter.lsp.analysis import IPYNB, NOTEBOOK, PYTHON, Analysis, PartText, Snapshot, analyze
from mlfilter.lsp.diagnostics import to_diagnostic
from mlfilter.lsp.documents import Documents, Lines
from mlfilter.lsp.scheduler import Scheduler
from mlfilter.lsp.settings import EditorSettings, Settings, StoreSchema

HEAVY_MODULES = ("mlflow", "pandas", "numpy", "sqlalchemy")
PYTHON_SUFFIXES = (".py", ".pyi", ".pyw")
log = logging.getLogger("mlfilter.lsp")


def _pass_through(method: str):
    """A document sync notification handed straight to the server's handler: pygls's own copy
    of the documents is not kept (see documents.py)."""

    @lsp_method(method)
    def handler(self, params):
        user = self.fm.features.get(method)
        if user is not None:
            yield user, (params,), None

    return handler


class _Protocol(LanguageServerProtocol):
    lsp_text_document__did_open = _pass_through(types.TEXT_DOCUMENT_DID_OPEN)
    lsp_text_document__did_change = _pass_through(types.TEXT_DOCUMENT_DID_CHANGE)
    lsp_text_document__did_close = _pass_through(types.TEXT_DOCUMENT_DID_CLOSE)
    lsp_notebook_document__did_open = _pass_through(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    lsp_notebook_document__did_change = _pass_through(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    lsp_notebook_document__did_close = _pass_through(types.NOTEBOOK_DOCUMENT_DID_CLOSE)


class MlfilterServer(LanguageServer):
    def __init__(self) -> None:
        from mlfilter import __version__

        notebooks = types.NotebookDocumentSyncOptions(
            notebook_selector=[types.NotebookDocumentFilterWithCells(
                cells=[types.NotebookCellLanguage("python")])], save=True)
        super().__init__("mlfilter", __version__, protocol_cls=_Protocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         notebook_document_sync=notebooks)
        self.docs = Documents()
        self.settings = Settings([])
        self.editor = EditorSettings()
        self.scheduler = Scheduler(self.lint, self.editor.debounce_ms / 1000)
        self.analyses: dict[str, Analysis] = {}
        self.published: dict[str, set[str]] = {}  # key -> URIs with diagnostics
        self.shown: set[str] = set()  # messages shown once
        self.parsers: dict = {}  # key -> lint.incremental.IncrementalParser (lint thread only)

    # ---- helpers ---------------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        try:
            enc = self.workspace.position_encoding
        except RuntimeError:
            return "utf-16"
        return getattr(enc, "value", enc) or "utf-16"

    def tell(self, message: str, kind=types.MessageType.Error, once: bool = True) -> None:
        if once and message in self.shown:
            return
        self.shown.add(message)
        self.window_show_message(types.ShowMessageParams(kind, f"mlfilter: {message}"))

    def log_error(self, where: str, error: BaseException) -> None:
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        log.error("%s: %s", where, text)
        try:
            self.window_log_message(types.LogMessageParams(
                types.MessageType.Error, f"mlfilter: internal error in {where}, please report "
                f"it:\n{text}"))
        except Exception:  # the client is gone: stderr has it
            pass

    def key_of(self, uri: str) -> str:
        doc = self.docs.texts.get(uri)
        return doc.notebook if doc is not None and doc.notebook else uri

    def snapshot(self, key: str) -> Snapshot | None:
        """The texts and versions of document `key` now (None: not open, or not Python)."""
        nb = self.docs.notebooks.get(key)
        if nb is not None:
            parts = []
            for kind, uri in nb.cells:
                doc = self.docs.texts.get(uri)
                python = doc is not None and doc.language_id in ("python", "")
                cell_type = "markdown" if kind == 1 else "code" if python else "raw"
                parts.append(PartText(uri, doc.version if doc else None,
                                      doc.text if doc else "", cell_type))
            return Snapshot(key, NOTEBOOK, to_fs_path(key), nb.version, tuple(parts))
        doc = self.docs.texts.get(key)
        if doc is None or doc.notebook:
            return None
        path = to_fs_path(key)
        name = (path or key).lower()
        if name.endswith(".ipynb"):
            kind = IPYNB
        elif doc.language_id == "python" or name.endswith(PYTHON_SUFFIXES):
            kind = PYTHON
        else:
            return None
        return Snapshot(key, kind, path, doc.version, (PartText(key, doc.version, doc.text),))

    def _analyze(self, snap: Snapshot) -> Analysis:
        """On the lint thread: the settings for the document, then the lint."""
        try:
            config, error = self.settings.config_for(snap.path)
            if snap.path:
                from mlfilter.lint.files import excluded

                if excluded(snap.path, config):
                    return Analysis(snap, config, {})
            parser = None
            if snap.kind == PYTHON:
                from mlfilter.lint.incremental import IncrementalParser

                parser = self.parsers.setdefault(snap.key, IncrementalParser())
            return analyze(snap, config, error, parser)
        except Exception as e:  # a bug in mlfilter: say so, publish nothing for this document
            self.log_error(f"linting {snap.key}", e)
            from mlfilter.config import Config

            return Analysis(snap, Config(), {})

    async def analysis_of(self, uri: str) -> Analysis | None:
        """The analysis of the current version of the document holding `uri`."""
        key = self.key_of(uri)
        snap = self.snapshot(key)
        if snap is None:
            return None
        cached = self.analyses.get(key)
        if cached is not None and cached.snapshot.versions == snap.versions:
            return cached
        analysis = await self.scheduler.in_worker(self._analyze, snap)
        current = self.snapshot(key)
        if current is not None and current.versions == snap.versions:
            self.analyses[key] = analysis
        return analysis

    async def lint(self, key: str) -> None:
        try:
            await self._lint(key)
        except Exception as e:  # publishing failed: the next edit tries again
            self.log_error(f"publishing diagnostics of {key}", e)

    async def _lint(self, key: str) -> None:
        snap = self.snapshot(key)
        if snap is None:
            self.clear(key)
            return
        analysis = await self.scheduler.in_worker(self._analyze, snap)
        current = self.snapshot(key)
        if current is None or current.versions != snap.versions:
            return  # edited meanwhile: the scheduler lints it again
        self.analyses[key] = analysis
        self.publish(analysis)

    def lines_of(self, uri: str, text: str) -> Lines:
        doc = self.docs.texts.get(uri)
        return doc.lines if doc is not None and doc.text is text else Lines(text)

    def publish(self, analysis: Analysis) -> None:
        if analysis.error:
            self.tell(analysis.error)
        key = analysis.snapshot.key
        uris = set()
        for part in analysis.snapshot.parts:
            result = analysis.parts.get(part.uri)
            reported = result.reported if result is not None else []
            lines = self.lines_of(part.uri, part.text)
            diagnostics = [to_diagnostic(r, lines, self.encoding) for r in reported]
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                part.uri, diagnostics, part.version))
            uris.add(part.uri)
        for gone in self.published.get(key, set()) - uris:
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(gone, []))
        self.published[key] = uris

    def clear(self, key: str) -> None:
        self.analyses.pop(key, None)
        self.parsers.pop(key, None)
        self.scheduler.forget(key)
        for uri in self.published.pop(key, set()):
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))

    def relint_all(self) -> None:
        for key in [*self.docs.notebooks, *(u for u, d in self.docs.texts.items()
                                             if not d.notebook)]:
            self.analyses.pop(key, None)
            self.scheduler.edited(key, now=True)

    def reload_settings(self) -> None:
        self.settings.reload()
        self.relint_all()

    def apply_editor_settings(self, options) -> None:
        editor, problems = EditorSettings.from_options(options)
        for problem in problems:
            self.tell(f"settings: {problem}")
        self.scheduler.delay_s = editor.debounce_ms / 1000
        if (editor.store, editor.experiments) != (self.editor.store, self.editor.experiments):
            self.settings.store = None
            if editor.store:
                import asyncio

                loop = asyncio.get_running_loop()
                self.settings.store = StoreSchema(
                    editor.store, editor.experiments,
                    lambda store: loop.call_soon_threadsafe(self._store_read, store))
        self.editor = editor

    def _store_read(self, store: StoreSchema) -> None:
        if store is not self.settings.store:
            return  # the settings changed since
        if store.error:
            self.tell(store.error)
        self.reload_settings()

    def server_info(self) -> dict:
        store = self.settings.store
        return {
            "pid": os.getpid(),
            "version": self.version,
            "heavy_modules": sorted(m for m in HEAVY_MODULES if m in sys.modules),
            "documents": sorted(self.docs.texts),
            "notebooks": sorted(self.docs.notebooks),
            "store": None if store is None else {
                "read": store.schema is not None, "error": store.error},
            "debounce_ms": self.editor.debounce_ms,
        }


def guarded(server: MlfilterServer, default=None):
    """Catch and log whatever a handler raises; answer `default` instead."""

    def wrap(fn):
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def run_async(params):
                try:
                    return await fn(params)
                except Exception as e:
                    server.log_error(fn.__name__, e)
                    return default
            return run_async

        @functools.wraps(fn)
        def run(params):
            try:
                return fn(params)
            except Exception as e:
                server.log_error(fn.__name__, e)
                return default
        return run

    return wrap


def create_server() -> MlfilterServer:
    from mlfilter.lsp import handlers

    server = MlfilterServer()
    handlers.register(server, guarded)
    return server


def serve() -> int:
    """Run the server on stdin/stdout until the editor says exit."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="mlfilter server: %(levelname)s %(message)s")
    create_server().start_io()
    return 0
