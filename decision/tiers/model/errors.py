"""Typed failures of the model tier; every message is safe to log (no credentials, no PII)."""

from __future__ import annotations


class ModelTierError(Exception):
    """Base class: something in the model tier failed; what is serving keeps serving."""


class RegistryError(ModelTierError):
    """The registry could not be asked, answered with an error, or took too long."""


class ModelLoadError(ModelTierError):
    """A candidate model failed to load or failed its checks; it is never published."""


class PredictionError(ModelTierError):
    """A prediction could not be made or gave unusable numbers (wrong width, inf, NaN)."""
