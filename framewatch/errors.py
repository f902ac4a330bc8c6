"""The one exception hierarchy of framewatch.

::

    FramewatchError
    ├── ConfigError            bad YAML, unknown key, invalid value
    ├── DataError              malformed dataset rows (each names file and line)
    ├── BaseModelError         base model cannot be resolved or fails its hash
    ├── CheckpointError        missing, corrupt or mismatched checkpoint
    ├── InputError             bad input to the predictor or the server
    │   └── LimitExceeded      an input over a configured size limit
    ├── OverloadedError        the server's queue is full (retry later)
    ├── NotReadyError          model not loaded or warmed up yet
    ├── ModelError             the model failed while scoring a batch
    ├── AuthError              missing or wrong API key
    └── PermissionDeniedError  valid key, but not for this action

Lower layers (pydantic, json, safetensors, torch) are translated into these at
exactly one boundary each, so callers catch one family. The HTTP layer maps them
to status codes in one table (``framewatch.serving.errors``).
"""

from __future__ import annotations

__all__ = [
    "RETRY_AFTER_BUSY_S",
    "RETRY_AFTER_UNAVAILABLE_S",
    "AuthError",
    "BaseModelError",
    "CheckpointError",
    "PermissionDeniedError",
    "NotReadyError",
    "ModelError",
    "ConfigError",
    "DataError",
    "FramewatchError",
    "InputError",
    "OverloadedError",
    "LimitExceeded",
]


RETRY_AFTER_BUSY_S = 1
"""Retry-After (seconds) for a saturated server or a request past its deadline: capacity frees up quickly."""
RETRY_AFTER_UNAVAILABLE_S = 5
"""Retry-After (seconds) while the server is starting, draining, restarting its model worker or has no model."""


class FramewatchError(Exception):
    """Base class of every error framewatch raises on purpose."""


class ConfigError(FramewatchError):
    """The configuration file or an override is invalid."""


class DataError(FramewatchError):
    """One or more dataset rows are malformed.

    ``problems`` holds every problem found (``file:line: message``), so a
    validation run reports them all at once instead of stopping at the first.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        shown = "\n".join(self.problems[:50])
        more = f"\n... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{len(self.problems)} data problem(s):\n{shown}{more}")


class BaseModelError(FramewatchError):
    """The configured base model cannot be found or loaded."""


class CheckpointError(FramewatchError):
    """A checkpoint is missing, corrupt, or does not match the expected schema."""


class InputError(FramewatchError):
    """Input to the predictor or an API request is invalid."""


class LimitExceeded(InputError):
    """An input exceeds a configured size limit (too many texts, too many characters)."""


class OverloadedError(FramewatchError):
    """The server cannot take more work now; the client should retry later."""

    def __init__(self, message: str, retry_after_s: int = RETRY_AFTER_BUSY_S):
        self.retry_after_s = retry_after_s
        super().__init__(message)


class AuthError(FramewatchError):
    """Missing or invalid credentials."""


class PermissionDeniedError(FramewatchError):
    """Valid credentials, but not for this action (or the action is disabled)."""


class NotReadyError(FramewatchError):
    """The model is not loaded or warmed up yet, or its worker is restarting."""

    retry_after_s = RETRY_AFTER_UNAVAILABLE_S


class ModelError(FramewatchError):
    """The model raised while scoring; every request in that batch gets this error."""
