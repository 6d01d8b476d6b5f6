"""A search request as MLflow's handler reads it: Flask request -> SearchRequest.

MLflow's `_get_request_message` (mlflow/server/handlers.py) takes a GET's query arguments (repeated
fields as lists) or else the JSON body (double-encoded JSON decoded again, no body meaning `{}`),
then fills the protobuf message with its own `parse_dict`. A field protobuf cannot read stops the
parse there and MLflow goes on with what was read, so the same parse is done here: the checked
filter is the one MLflow runs, defaults and `camelCase` spellings included.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass

from mlfilter.mlflow_app.routes import GraphQLField, Route


@dataclass(frozen=True)
class SearchRequest:
    route: Route | GraphQLField  # a REST route, or the GraphQL field that carried it
    filter: str
    order_by: list  # strings, or dicts for logged models (as the handler passes them on)
    view_type: object | None  # the value sent (None: not sent)
    view_type_read: int | None  # what protobuf read (None: the default)
    max_results: int
    max_results_sent: bool


_MESSAGES: dict[str, type] = {}


def message_class(route: Route):
    cls = _MESSAGES.get(route.message)
    if cls is None:
        module, name = route.message.split(":")
        cls = getattr(importlib.import_module(f"mlflow.protos.{module}"), name)
        _MESSAGES[route.message] = cls
    return cls


def request_json(flask_request, descriptor):
    """The dict MLflow parses, or None when the request holds none (MLflow answers it itself)."""
    if flask_request.method == "GET" and flask_request.args:
        data = {}
        for field in descriptor.fields:
            if field.name in flask_request.args:
                data[field.name] = (flask_request.args.getlist(field.name) if field.is_repeated
                                    else flask_request.args.get(field.name))
        return data
    data = flask_request.get_json(force=True, silent=True)
    if isinstance(data, str):  # older clients double-encode
        try:
            data = json.loads(data)
        except ValueError:
            return None
    if data is None:
        return {}
    return data if isinstance(data, dict) else None


def _ambiguous(data: dict, descriptor) -> bool:
    """A field spelled both ways (`max_results` and `maxResults`): MLflow refuses the request."""
    return any(f.name != f.json_name and f.name in data and f.json_name in data
               for f in descriptor.fields)


def read_search(flask_request, route: Route) -> SearchRequest | None:
    from mlflow.utils.proto_json_utils import parse_dict
    from google.protobuf.json_format import ParseError

    cls = message_class(route)
    data = request_json(flask_request, cls.DESCRIPTOR)
    if data is None or _ambiguous(data, cls.DESCRIPTOR):
        return None
    message = cls()
    try:
        parse_dict(data, message)
    except ParseError:
        pass  # MLflow goes on with the fields read so far
    if route.order_dicts:
        order_by = [{"field_name": o.field_name, "ascending": o.ascending,
                     "dataset_name": o.dataset_name or None,
                     "dataset_digest": o.dataset_digest or None} for o in message.order_by]
    else:
        order_by = list(message.order_by)
    view_sent = view_read = None
    if route.view_field is not None:
        field = cls.DESCRIPTOR.fields_by_name[route.view_field]
        view_sent = data.get(field.name, data.get(field.json_name))
        if message.HasField(route.view_field):
            view_read = getattr(message, route.view_field)
    sent = "max_results" in data or "maxResults" in data
    return SearchRequest(route, message.filter, order_by, view_sent, view_read,
                         message.max_results, sent)
