"""A real LSP client (pytest-lsp) driving a real `mlfilter server` process, for the tests of the
language server: start it on a workspace folder, open documents, wait for their diagnostics."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from pygls.protocol import default_converter

SERVER = [sys.executable, "-m", "mlfilter", "server"]
TIMEOUT = 30  # seconds: a shared machine can be slow, a hang still fails


class Client(LanguageClient):
    """pytest-lsp's client, keeping every publishDiagnostics (with its version) and every
    registration the server asks for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.published: list[types.PublishDiagnosticsParams] = []
        self.registrations: list[types.Registration] = []
        self.changed = asyncio.Event()


def _publish(client: Client, params: types.PublishDiagnosticsParams):
    client.diagnostics[params.uri] = params.diagnostics
    client.published.append(params)
    client.changed.set()


def _register(client: Client, params: types.RegistrationParams):
    client.registrations.extend(params.registrations)


def _show_message(client: Client, params):
    client.messages.append(params)
    client.changed.set()


def make_client() -> Client:
    client = Client(converter_factory=default_converter)
    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES,
                                   types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: _publish,
                                   types.CLIENT_REGISTER_CAPABILITY: _register,
                                   types.WINDOW_SHOW_MESSAGE: _show_message})
    return client


CONFIG = ClientServerConfig(server_command=SERVER, client_factory=make_client,
                            server_env={**os.environ, "PYTHONUNBUFFERED": "1"})


async def start(root, options=None, capabilities: str = "visual-studio-code") -> Client:
    """A client connected to a new server on workspace folder `root`, initialized."""
    client = await CONFIG.start()
    uri = from_fs_path(str(root))
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(capabilities),
        root_uri=uri,
        workspace_folders=[types.WorkspaceFolder(uri=uri, name="workspace")],
        initialization_options=options))
    return client


async def stop(client: Client) -> None:
    await client.shutdown_session()
    await client.stop()


@contextlib.asynccontextmanager
async def serving(root, options=None):
    """A started client (see `start`), stopped on the way out."""
    client = await start(root, options)
    try:
        yield client
    finally:
        await stop(client)


def uri_of(path) -> str:
    return from_fs_path(str(path))


async def wait_for(client: Client, predicate, timeout: float = TIMEOUT, since: int = 0):
    """The first published diagnostics from the `since`-th on (oldest first, including ones
    already received) for which `predicate(params)` holds."""
    seen = since
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for params in client.published[seen:]:
            if predicate(params):
                return params
        seen = max(seen, len(client.published))
        client.changed.clear()
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise AssertionError("no such publishDiagnostics in time; got "
                                 f"{[(p.uri, p.version, len(p.diagnostics)) for p in client.published]}")
        try:
            await asyncio.wait_for(client.changed.wait(), left)
        except asyncio.TimeoutError:
            pass


async def eventually(check, timeout: float = TIMEOUT):
    """Poll `check()` until it returns something true; that value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition never held")
        await asyncio.sleep(0.05)


def after(client: Client, uri: str):
    """A wait for the next diagnostics of `uri` published from now on."""
    return wait_for(client, lambda p: p.uri == uri, since=len(client.published))


async def diagnostics(client: Client, uri: str, version: int | None = None):
    """The diagnostics published for `uri` at `version` (any version when None), after now."""
    params = await wait_for(client, lambda p: p.uri == uri and (
        version is None or p.version == version), since=len(client.published))
    return params.diagnostics


def open_python(client: Client, path, text: str, version: int = 1) -> str:
    uri = uri_of(path)
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
    return uri


def replace_all(client: Client, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangeWholeDocument(text=text)]))


def apply_edits(text: str, edits) -> str:
    """`text` with LSP TextEdits applied (positions in UTF-16 units, as the client negotiated by
    default), the way an editor applies them."""
    from mlfilter.lsp.documents import Lines

    lines = Lines(text)
    spans = []
    for e in edits:
        a = lines.offset(e.range.start.line, e.range.start.character, "utf-16")
        b = lines.offset(e.range.end.line, e.range.end.character, "utf-16")
        spans.append((a, b, e.new_text))
    for a, b, new in sorted(spans, reverse=True):
        text = text[:a] + new + text[b:]
    return text


def edits_of(action: types.CodeAction, uri: str):
    edit = action.edit
    if edit.document_changes:
        return [e for change in edit.document_changes if change.text_document.uri == uri
                for e in change.edits]
    return list((edit.changes or {}).get(uri, []))


def send_raw(client: Client, body) -> None:
    """Write one JSON-RPC frame to the server as is: `body` is a JSON-able object, or bytes that
    need not be JSON at all (the client's own checks would refuse to send such messages)."""
    import json

    data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    client._server.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(data), data))


async def server_info(client: Client) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="mlfilter.serverInfo"))
