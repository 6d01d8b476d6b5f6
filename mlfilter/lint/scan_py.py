"""Find the search calls in a Python module (stdlib `ast`) and the arguments worth checking.

Lint flow: source -> `ast.parse` -> `find_targets` -> Target records (which API, which argument,
its expression node) -> evaluate.py. Only what the file shows statically counts: an argument
that is not a literal, a module-level constant or an f-string is left alone.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from mlfilter.lint.calls import (BUILDER_METHODS, CHECKED, CLIENT_PARAMS, FLUENT_PARAMS,
                                 MLFILTER_FUNCTIONS, SEARCH_FUNCTIONS)


@dataclass(slots=True)
class Target:
    kind: str  # "filter", "order_by", "view_type" or "max_results"
    api: str
    node: ast.AST  # the argument, constants resolved
    flavor: str  # "fluent", "client" or "mlfilter": whose rules apply
    call: str  # the call as written, for messages: "MlflowClient.search_runs"


class _Imports:
    """What names mean in this file: mlflow modules, search functions, the client class."""

    def __init__(self) -> None:
        self.modules: dict[str, str] = {}  # local name -> module path (mlflow... or mlfilter)
        self.functions: dict[str, tuple[str, str]] = {}  # local name -> (origin, function)
        self.client_classes: set[str] = set()
        self.view_types: set[str] = set()
        self.mlflow = False  # the file imports mlflow in some form

    def read(self, nodes) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    root = alias.name.split(".")[0]
                    if root not in ("mlflow", "mlfilter"):
                        continue
                    self.mlflow |= root == "mlflow"
                    if alias.asname:
                        self.modules[alias.asname] = alias.name
                    else:
                        self.modules[root] = root
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                root = node.module.split(".")[0]
                if root not in ("mlflow", "mlfilter"):
                    continue
                self.mlflow |= root == "mlflow"
                for alias in node.names:
                    local = alias.asname or alias.name
                    if alias.name == "MlflowClient":
                        self.client_classes.add(local)
                    elif alias.name == "ViewType":
                        self.view_types.add(local)
                    elif alias.name in SEARCH_FUNCTIONS or (
                            root == "mlfilter" and alias.name in MLFILTER_FUNCTIONS):
                        self.functions[local] = (root, alias.name)
                    elif alias.name[:1].islower():
                        self.modules[local] = f"{node.module}.{alias.name}"


def dotted(node: ast.AST) -> list[str] | None:
    """`a.b.c` -> ["a", "b", "c"]; None for anything but names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


@dataclass(slots=True)
class StatementNodes:
    """What one walk over a top-level statement found: every node, the calls, assignments and
    imports, and how often each name is bound in it. The walk is breadth first within the
    statement, statements in order."""

    nodes: list
    calls: list
    assigns: list
    imports: list
    bindings: dict


def statement_nodes(stmt: ast.AST) -> StatementNodes:
    from collections import deque

    nodes, calls, assigns, imports = [], [], [], []
    bindings: dict[str, int] = {}
    queue = deque([stmt])
    pop, push, AST = queue.popleft, queue.append, ast.AST
    while queue:
        node = pop()
        nodes.append(node)
        kind = type(node)
        if kind is ast.Call:
            calls.append(node)
        elif kind is ast.Name:
            if type(node.ctx) is not ast.Load:
                bindings[node.id] = bindings.get(node.id, 0) + 1
        elif kind is ast.Assign:
            assigns.append(node)
        elif kind is ast.Import or kind is ast.ImportFrom:
            imports.append(node)
            for alias in node.names:
                name = (alias.asname or alias.name).split(".")[0]
                bindings[name] = bindings.get(name, 0) + 1
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.ClassDef:
            bindings[node.name] = bindings.get(node.name, 0) + 1
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, AST):
                push(value)
            elif type(value) is list:
                for item in value:
                    if isinstance(item, AST):
                        push(item)
    return StatementNodes(nodes, calls, assigns, imports, bindings)


class _Nodes:
    """The imports, assignments and calls of the whole module, and how often each name is bound
    anywhere in the file: its statements' walks put together. `pieces` (id of a statement ->
    StatementNodes) holds walks already made, by an editor re-linting an unchanged statement."""

    def __init__(self, tree: ast.Module, pieces: dict | None = None):
        self.imports: list[ast.AST] = []
        self.assigns: list[ast.Assign] = []
        self.calls: list[ast.Call] = []
        self.bindings: dict[str, int] = {}
        bindings = self.bindings
        for stmt in tree.body:
            piece = pieces.get(id(stmt)) if pieces is not None else None
            if piece is None:
                piece = statement_nodes(stmt)
            self.imports.extend(piece.imports)
            self.assigns.extend(piece.assigns)
            self.calls.extend(piece.calls)
            for name, count in piece.bindings.items():
                bindings[name] = bindings.get(name, 0) + count


def module_constants(tree: ast.Module, bindings: dict[str, int]) -> dict[str, ast.AST]:
    """Module-level names bound exactly once in the whole file, by `NAME = value` or
    `NAME: T = value` (a local of the same name elsewhere makes it unknown: conservative)."""
    values: dict[str, ast.AST] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
                stmt.targets[0], ast.Name):
            values[stmt.targets[0].id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) \
                and stmt.value is not None:
            values[stmt.target.id] = stmt.value
    return {name: value for name, value in values.items() if bindings.get(name) == 1}


class _Finder:
    def __init__(self, tree: ast.Module, default_api: str = "runs", pieces: dict | None = None):
        self.default_api = default_api  # of mlfilter.check(text) calls that name no API
        self.nodes = _Nodes(tree, pieces)
        self.imports = _Imports()
        self.imports.read(self.nodes.imports)
        self.constants = module_constants(tree, self.nodes.bindings)
        self.client_names: set[str] = set()
        self.client_attrs: set[str] = set()
        self.builder_names: dict[str, str] = {}  # q = mlfilter.search_runs(...): q -> "runs"
        self.targets: list[Target] = []
        self.tree = tree

    def run(self) -> list[Target]:
        for node in self.nodes.assigns:
            if self._is_client(node.value):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.client_names.add(target.id)
                    elif isinstance(target, ast.Attribute):
                        self.client_attrs.add(target.attr)
            elif isinstance(node.value, ast.Call):
                api = self._builder_api(node.value)
                if api is not None:
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            self.builder_names[target.id] = api
        for node in self.nodes.calls:
            self._call(node)
        return self.targets

    def resolve(self, node: ast.AST) -> ast.AST:
        """A module-level constant's value in place of its name (one level)."""
        if isinstance(node, ast.Name) and node.id in self.constants:
            return self.constants[node.id]
        return node

    # ---- what a callee is ------------------------------------------------------------------

    def _module_path(self, node: ast.AST) -> str | None:
        parts = dotted(node)
        if parts is None or parts[0] not in self.imports.modules:
            return None
        return ".".join([self.imports.modules[parts[0]], *parts[1:]])

    def _is_client(self, node: ast.AST) -> bool:
        """`MlflowClient(...)`, under any import spelling."""
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in self.imports.client_classes
        path = self._module_path(func)
        return path is not None and path.startswith("mlflow") and path.endswith(".MlflowClient")

    def _receiver(self, node: ast.AST) -> str | None:
        """What `node.search_x` is called on: "fluent", "client", "builder" or None (not ours)."""
        path = self._module_path(node)
        if path is not None:
            if path.startswith("mlfilter"):
                return "builder"  # mlfilter.search_runs(...): checked through .where()
            if path.endswith("MlflowClient"):
                return None  # the unbound method: the first argument would be the client
            return "fluent"
        if self._is_client(node):
            return "client"
        if isinstance(node, ast.Name) and node.id in self.client_names:
            return "client"
        if isinstance(node, ast.Attribute) and node.attr in self.client_attrs:
            return "client"
        # A receiver of unknown type: in a file that imports mlflow, `x.search_runs(...)` is most
        # likely an MlflowClient (passed in, or built elsewhere).
        return "client" if self.imports.mlflow else None

    def _call(self, call: ast.Call) -> None:
        func = call.func
        if isinstance(func, ast.Attribute):
            name = func.attr
            if name in SEARCH_FUNCTIONS:
                flavor = self._receiver(func.value)
                if flavor in ("fluent", "client"):
                    owner = "mlflow" if flavor == "fluent" else "MlflowClient"
                    self._search(call, SEARCH_FUNCTIONS[name], flavor, f"{owner}.{name}")
                return
            if name in BUILDER_METHODS:
                api = self._builder_api(func.value)
                if api is not None:
                    self._builder(call, api, BUILDER_METHODS[name], name)
                return
            if name in MLFILTER_FUNCTIONS and (self._module_path(func.value) or "").startswith(
                    "mlfilter"):
                self._mlfilter(call, name)
            return
        if isinstance(func, ast.Name) and func.id in self.imports.functions:
            origin, name = self.imports.functions[func.id]
            if origin == "mlflow":
                self._search(call, SEARCH_FUNCTIONS[name], "fluent", f"mlflow.{name}")
            elif name in MLFILTER_FUNCTIONS:
                self._mlfilter(call, name)

    def _builder_api(self, node: ast.AST) -> str | None:
        """The API of a builder chain `mlfilter.search_runs(...).where(...)...`, or None."""
        while True:
            if isinstance(node, ast.Name):
                return self.builder_names.get(node.id)
            if not isinstance(node, ast.Call):
                return None
            func = node.func
            if isinstance(func, ast.Attribute):
                if func.attr in SEARCH_FUNCTIONS:
                    path = self._module_path(func.value) or ""
                    return SEARCH_FUNCTIONS[func.attr] if path.startswith("mlfilter") else None
                node = func.value
            elif isinstance(func, ast.Name):
                origin = self.imports.functions.get(func.id)
                if origin and origin[0] == "mlfilter" and origin[1] in SEARCH_FUNCTIONS:
                    return SEARCH_FUNCTIONS[origin[1]]
                return None
            else:
                return None

    # ---- arguments -------------------------------------------------------------------------

    def _search(self, call: ast.Call, api: str, flavor: str, label: str) -> None:
        params = (FLUENT_PARAMS if flavor == "fluent" else CLIENT_PARAMS)[api]
        for param, node in _bind(call, params):
            kind = CHECKED.get(param)
            if kind is not None:
                self.targets.append(Target(kind, api, self.resolve(node), flavor, label))

    def _mlfilter(self, call: ast.Call, name: str) -> None:
        kind, params = MLFILTER_FUNCTIONS[name]
        bound = dict(_bind(call, params))
        api_node = bound.get("api")
        api = self.default_api
        if api_node is not None:
            api_node = self.resolve(api_node)
            if not (isinstance(api_node, ast.Constant) and isinstance(api_node.value, str)):
                return
            from mlfilter.apis import get_api

            try:
                api = get_api(api_node.value).name
            except ValueError:
                return
        value = bound.get(params[0])
        if value is not None:
            self.targets.append(Target(kind, api, self.resolve(value), "mlfilter",
                                       f"mlfilter.{name}"))

    def _builder(self, call: ast.Call, api: str, kind: str, method: str) -> None:
        if kind == "filter":
            if len(call.args) == 1 and not call.keywords:
                self.targets.append(Target("filter", api, self.resolve(call.args[0]), "mlfilter",
                                           f".{method}"))
            return
        if call.keywords or any(isinstance(a, ast.Starred) for a in call.args):
            return
        if len(call.args) == 1:
            node = self.resolve(call.args[0])
            if isinstance(node, (ast.List, ast.Tuple)):
                self.targets.append(Target("order_by", api, node, "mlfilter", f".{method}"))
                return
        if call.args:
            self.targets.append(Target("order_by", api, ast.List(elts=list(call.args)),
                                       "mlfilter", f".{method}"))


def _bind(call: ast.Call, params: tuple[str, ...]):
    """(parameter, argument) pairs, positional ones matched by position until a `*args`."""
    for i, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred) or i >= len(params):
            break
        yield params[i], arg
    for kw in call.keywords:
        if kw.arg is not None:
            yield kw.arg, kw.value


def find_targets(tree: ast.Module, default_api: str = "runs",
                 pieces: dict | None = None) -> tuple[list[Target], _Finder]:
    finder = _Finder(tree, default_api, pieces)
    return finder.run(), finder
