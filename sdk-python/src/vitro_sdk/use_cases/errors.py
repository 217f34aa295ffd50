"""What a use case raises when the devices do not behave as it needs."""

from __future__ import annotations


class UseCaseError(AssertionError):
    """A use case's expectation failed (an ``AssertionError``, so pytest shows it as a failure)."""
