"""The trading module's error: a code (the API's error code) and a message."""

from __future__ import annotations


class TradingError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
