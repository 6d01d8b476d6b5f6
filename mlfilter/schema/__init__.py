"""Schemas of tracking stores: what was logged, for type checks and explain."""

from mlfilter.schema.errors import SchemaError
from mlfilter.schema.model import ExperimentInfo, KeyInfo, Schema

__all__ = ["ExperimentInfo", "KeyInfo", "Schema", "SchemaError"]
