"""Errors of the store path: one clear message each, never a traceback for the user."""

from mlfilter.errors import MlfilterError


class SchemaError(MlfilterError):
    """A store or snapshot could not be read (down, wrong URI, not an MLflow database...)."""


SchemaError.__module__ = "mlfilter"  # the name users import
