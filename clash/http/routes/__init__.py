"""One routes file per module. Integer path ids use the `id` convertor: 1 to 18 digits, so every id
a route passes on fits SQLite's signed 64-bit integers and a longer one is a plain 404."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class IdConvertor(Convertor[int]):
    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())
