"""The searches in a GraphQL request to MLflow's `/graphql`, and the answer that refuses some.

MLflow's `_graphql` (mlflow/server/handlers.py) reads `query`, `variables` and `operationName`
from the JSON body (GET included), parses the document, runs its own safety check, and executes
it with its graphene schema. Each search field's resolver fills the REST request message from
the field's `input` with MLflow's `parse_dict` and calls the REST handler's *_impl. The same
steps are taken here with MLflow's own schema and graphql-core (MLflow's dependency), so a
search is checked only where MLflow would run it: a document MLflow refuses, fails on, or never
gets to a search field in (not valid, unknown operation, bad variables, a field that errs before
its resolver runs) is left to MLflow. Only the MLflow server imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfilter.mlflow_app.request import SearchRequest, message_class
from mlfilter.mlflow_app.routes import GRAPHQL_FIELDS, GraphQLField

_BY_FIELD = {f.field: f for f in GRAPHQL_FIELDS}


class NotReadable(Exception):
    """MLflow itself answers this request without running a search: leave it to MLflow."""


@dataclass(frozen=True)
class FieldSearch:
    key: str  # the field's key in the answer's `data`: its alias, or its name
    field: GraphQLField
    search: SearchRequest


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: object
    operation_name: object
    searches: tuple[FieldSearch, ...]


def _schema():
    from mlflow.server.graphql.graphql_schema_extensions import schema

    return schema


def request_body(flask_request) -> dict:
    """The JSON object MLflow's handler reads, or NotReadable where MLflow answers on its own
    (a POST that is not application/json: 400; no JSON object: 500)."""
    if flask_request.method in ("POST", "PUT"):
        content_type = (flask_request.content_type or "").split(";")[0]
        if content_type != "application/json":
            raise NotReadable("not application/json: MLflow answers 400")
    data = flask_request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise NotReadable("no JSON object: MLflow fails on it")
    return data


def read_graphql(flask_request) -> GraphQLRequest:
    """The search fields MLflow would resolve for this request, each as a SearchRequest.
    Raises NotReadable (with why) where MLflow answers without running a search; a GraphQL
    syntax error raises graphql's GraphQLError."""
    from graphql import parse, validate
    from graphql.execution import ExecutionContext
    from mlflow.server.graphql.graphql_no_batching import check_query_safety

    data = request_body(flask_request)
    query = data.get("query")
    if not isinstance(query, str):
        raise NotReadable("no query string: MLflow fails on it")
    document = parse(query)
    if check_query_safety(document) is not None:
        raise NotReadable("too many root fields, aliases or selections: MLflow refuses it")
    schema = _schema().graphql_schema
    if validate(schema, document):
        raise NotReadable("not valid against MLflow's schema: MLflow answers the errors")
    context = ExecutionContext.build(schema, document, raw_variable_values=data.get("variables"),
                                     operation_name=data.get("operationName"))
    if isinstance(context, list):  # unknown operation, variables that do not fit
        raise NotReadable("MLflow answers: " + "; ".join(e.message for e in context))
    searches = tuple(_field_searches(schema, context))
    return GraphQLRequest(query, data.get("variables"), data.get("operationName"), searches)


def _field_searches(schema, context):
    from graphql.execution.collect_fields import collect_fields
    from graphql.execution.values import get_argument_values

    operation = context.operation.operation.value  # "query", "mutation", "subscription"
    root = schema.get_root_type(context.operation.operation)
    fields = collect_fields(schema, context.fragments, context.variable_values, root,
                            context.operation.selection_set)
    for key, nodes in fields.items():
        spec = _BY_FIELD.get(nodes[0].name.value)
        if spec is None or operation not in spec.operations:
            continue
        try:
            args = get_argument_values(root.fields[spec.field], nodes[0], context.variable_values)
        except Exception:  # noqa: BLE001 - MLflow fails on this field before its resolver runs
            continue
        if args.get("input") is None:  # the resolver fails without it
            continue
        search = _search(spec, vars(args["input"]))
        if search is not None:
            yield FieldSearch(key, spec, search)


def _search(spec: GraphQLField, input_dict: dict) -> SearchRequest | None:
    """The REST message the resolver fills, read as the REST check reads it; None where
    MLflow's parse_dict fails (MLflow answers its own error: in 3.17.2 any runViewType does)."""
    from mlflow.utils.proto_json_utils import parse_dict

    message = message_class(spec)()
    try:
        parse_dict(input_dict, message)
    except Exception:  # noqa: BLE001 - whatever parse_dict raises, MLflow's resolver raises too
        return None
    return SearchRequest(spec, message.filter, list(message.order_by), None, None,
                         message.max_results, input_dict.get("max_results") is not None)


class _Refuse:
    """graphql-core middleware: the refused root fields raise mlfilter's message instead of
    running their resolver, so the answer's `data` has null there, as for MLflow's own error."""

    def __init__(self, refused: dict[str, str]):
        self.refused = refused
        self.reached: list[str] = []  # refused fields whose resolver was due to run

    def resolve(self, next_, root, info, **args):
        if info.path.prev is None and info.path.key in self.refused:
            self.reached.append(info.path.key)
            raise Refused(self.refused[info.path.key])
        return next_(root, info, **args)


class Refused(Exception):
    pass


def refusal(request: GraphQLRequest, refused: dict[str, str], header: str):
    """MLflow's GraphQL answer to this request, executed as `_graphql` does it (with
    basic-auth's GraphQL middleware when it is on), where each refused field gives mlfilter's
    message as its error. HTTP 200 with {"data": ..., "errors": [message, ...]}, as MLflow's."""
    from flask import jsonify
    from mlflow.server import handlers

    auth = getattr(handlers, "_get_graphql_auth_middleware", list)  # not in every release
    # graphql-core makes the last middleware the outermost: basic-auth's decides first, and a
    # field it denies stays null without an error, as without mlfilter
    refuse = _Refuse(refused)
    result = _schema().execute(request.query, variables=request.variables,
                               operation_name=request.operation_name,
                               middleware=[refuse, *auth()])
    errors = [error.message for error in result.errors or ()]
    # basic-auth's middleware turns any error of an admin's search into null without an error
    # (MLflow 3.17.2 logs "auth system error"): mlfilter's message is kept all the same
    raised = {tuple(e.path or ()) for e in result.errors or ()
              if isinstance(e.original_error, Refused)}
    errors += [refused[key] for key in refuse.reached if (key,) not in raised]
    response = jsonify({"data": result.data, "errors": errors or None})
    response.headers[header] = "rejected"
    return response
