"""The one pair of source errors every market client raises, so health can count them alike."""

from __future__ import annotations

__all__ = ["DecodeError", "SourceError"]


class SourceError(Exception):
    """An upstream request failed for good (after retries, or with a non-retryable status)."""

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts


class DecodeError(SourceError):
    """The upstream answered with a payload that does not match its wire type; never retried.

    A subclass of SourceError so one `except` covers both, yet health counts it apart.
    """
