"""The hypothesis settings every differential and property test shares: a number of examples
from an environment variable, no deadline (real stores are slow and shared machines noisy), no
example database, and a fixed sequence under CI."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def examples_settings(variable: str, default: int) -> settings:
    """Settings with `$variable` examples (default `default`)."""
    return settings(
        max_examples=int(os.environ.get(variable, str(default))),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=bool(os.environ.get("CI")),
    )
