"""The LSP methods the server answers, each a thin handler over server.py's state and the
feature modules. Every handler is wrapped by `guarded`: an exception is logged, never fatal."""

from __future__ import annotations

import os

from lsprotocol import types
from pygls.uris import to_fs_path

from mlfilter.lsp import actions, completion, hover

SETTINGS_FILE = "pyproject.toml"
SERVER_INFO = "mlfilter.serverInfo"  # a command: what the server holds (tests, bug reports)


def _is_settings_file(uri: str) -> bool:
    path = to_fs_path(uri) or uri
    return os.path.basename(path) == SETTINGS_FILE or path.endswith(".json")


def register(server, guarded) -> None:
    feature = server.feature

    # ---- lifecycle and settings ------------------------------------------------------------

    @feature(types.INITIALIZE)
    @guarded(server)
    def initialize(params: types.InitializeParams):
        roots = [to_fs_path(f.uri) for f in params.workspace_folders or ()]
        if not roots and params.root_uri:
            roots = [to_fs_path(params.root_uri)]
        elif not roots and params.root_path:
            roots = [params.root_path]
        server.settings.roots = [r for r in roots if r]
        server.apply_editor_settings(params.initialization_options)

    @feature(types.INITIALIZED)
    @guarded(server)
    def initialized(params):
        caps = server.client_capabilities.workspace
        watched = caps.did_change_watched_files if caps else None
        if watched is not None and watched.dynamic_registration:
            options = types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern=f"**/{SETTINGS_FILE}")])
            server.client_register_capability(types.RegistrationParams([types.Registration(
                "mlfilter-settings", types.WORKSPACE_DID_CHANGE_WATCHED_FILES, options)]))

    @feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded(server)
    def watched_files(params: types.DidChangeWatchedFilesParams):
        if any(_is_settings_file(change.uri) for change in params.changes):
            server.reload_settings()

    @feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded(server)
    def configuration(params: types.DidChangeConfigurationParams):
        if isinstance(params.settings, dict) and params.settings:
            server.apply_editor_settings(params.settings)
        server.reload_settings()

    @server.command(SERVER_INFO)
    def server_info(*_args):
        return server.server_info()

    # ---- text documents --------------------------------------------------------------------

    @feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded(server)
    def did_open(params: types.DidOpenTextDocumentParams):
        doc = server.docs.open_text(params.text_document)
        server.scheduler.edited(doc.uri, now=True)

    @feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded(server)
    def did_change(params: types.DidChangeTextDocumentParams):
        doc = server.docs.texts.get(params.text_document.uri)
        if doc is None:
            return  # never opened: nothing to apply the change to
        doc.apply(params.content_changes, params.text_document.version, server.encoding)
        server.scheduler.edited(server.key_of(doc.uri))

    @feature(types.TEXT_DOCUMENT_DID_SAVE)
    @guarded(server)
    def did_save(params: types.DidSaveTextDocumentParams):
        if _is_settings_file(params.text_document.uri):
            server.reload_settings()

    @feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded(server)
    def did_close(params: types.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        server.docs.close_text(uri)
        server.clear(uri)

    # ---- notebooks -------------------------------------------------------------------------

    @feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    @guarded(server)
    def notebook_open(params: types.DidOpenNotebookDocumentParams):
        nb = server.docs.open_notebook(params)
        server.scheduler.edited(nb.uri, now=True)

    @feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    @guarded(server)
    def notebook_change(params: types.DidChangeNotebookDocumentParams):
        nb = server.docs.change_notebook(params, server.encoding)
        if nb is not None:
            server.scheduler.edited(nb.uri)

    @feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    @guarded(server)
    def notebook_save(params: types.DidSaveNotebookDocumentParams):
        pass  # linted on each change already

    @feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    @guarded(server)
    def notebook_close(params: types.DidCloseNotebookDocumentParams):
        server.docs.close_notebook(params.notebook_document.uri)
        for ident in params.cell_text_documents or ():
            server.docs.close_text(ident.uri)
        server.clear(params.notebook_document.uri)

    # ---- features --------------------------------------------------------------------------

    def _position(uri: str, position: types.Position):
        """(document, offset, 1-based line, 1-based column) of an LSP position, or None."""
        doc = server.docs.texts.get(uri)
        if doc is None:
            return None
        lines = doc.lines
        offset = lines.offset(position.line, position.character, server.encoding)
        line = max(0, min(position.line, len(lines.starts) - 1))
        return doc, offset, line + 1, offset - lines.starts[line] + 1

    @feature(types.TEXT_DOCUMENT_CODE_ACTION,
             types.CodeActionOptions(code_action_kinds=actions.KINDS))
    @guarded(server, default=[])
    async def code_action(params: types.CodeActionParams):
        uri = params.text_document.uri
        analysis = await server.analysis_of(uri)
        doc = server.docs.texts.get(uri)
        if analysis is None or doc is None:
            return []
        caps = server.client_capabilities.workspace
        edits = caps.workspace_edit if caps else None
        document_changes = bool(edits and edits.document_changes)
        only = params.context.only if params.context else None
        return await server.scheduler.in_worker(
            actions.code_actions, analysis, uri, params.range, only,
            server.lines_of(uri, analysis.parts[uri].text) if uri in analysis.parts else doc.lines,
            doc.version, server.encoding, document_changes)

    @feature(types.TEXT_DOCUMENT_HOVER)
    @guarded(server)
    async def on_hover(params: types.HoverParams):
        analysis = await server.analysis_of(params.text_document.uri)
        where = _position(params.text_document.uri, params.position)
        if analysis is None or where is None:
            return None
        doc, offset, line, col = where
        return await server.scheduler.in_worker(
            hover.hover, analysis, doc.uri, offset, line, col, doc.lines, server.encoding)

    @feature(types.TEXT_DOCUMENT_COMPLETION,
             types.CompletionOptions(trigger_characters=completion.TRIGGERS))
    @guarded(server, default=[])
    async def on_completion(params: types.CompletionParams):
        analysis = await server.analysis_of(params.text_document.uri)
        where = _position(params.text_document.uri, params.position)
        if analysis is None or where is None:
            return []
        doc, offset, _line, _col = where
        items = await server.scheduler.in_worker(
            completion.completions, analysis, doc.uri, offset, doc.text, doc.lines,
            server.encoding)
        return types.CompletionList(is_incomplete=False, items=items)
