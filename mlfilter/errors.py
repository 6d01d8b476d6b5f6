"""mlfilter's own errors: the only exceptions its public functions raise on bad input.

Every one derives from MlfilterError; those about a value the caller passed also derive from
ValueError, so `except ValueError` code written before them keeps working.
"""

from __future__ import annotations


class MlfilterError(Exception):
    """Base of mlfilter's errors."""


class FilterError(MlfilterError, ValueError):
    """MLflow would reject the filter (or order_by); `.diagnostics` says why."""

    def __init__(self, report):
        self.report = report
        self.diagnostics = report.errors
        first = self.diagnostics[0]
        super().__init__(f"{first.code}: {first.message}" + (
            f" (and {len(self.diagnostics) - 1} more)" if len(self.diagnostics) > 1 else ""))


class TargetError(MlfilterError, ValueError):
    """An MLflow version or backend mlfilter does not know."""


class ConfigError(MlfilterError, ValueError):
    """A setting mlfilter cannot use; the message names the file and the key."""


# Shown as `mlfilter.FilterError` in tracebacks and reprs: the name users import.
for _error in (MlfilterError, FilterError, TargetError, ConfigError):
    _error.__module__ = "mlfilter"
