"""Messages are frozen, tagged msgspec Structs, so any of them round-trips through JSON."""

from __future__ import annotations

from typing import Any, Union

import msgspec


class Message(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    """Base of every actor message; the tag is the class name."""


def message_types() -> dict[str, type[Message]]:
    """Every Message subclass that has been imported, by tag."""
    found: dict[str, type[Message]] = {}
    pending = list(Message.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        tag = str(cls.__struct_config__.tag)
        if tag in found and found[tag] is not cls:
            raise TypeError(f"two message types share the tag {tag!r}: {found[tag]} and {cls}")
        found[tag] = cls
    return found


def decode_message(data: bytes | str, types: dict[str, type[Message]] | None = None) -> Message:
    """Decode tagged JSON into the message type its tag names (`msgspec.ValidationError` if none
    fits)."""
    known = list((types or message_types()).values())
    if not known:
        raise msgspec.ValidationError("no message types are registered")
    decoded: Message = msgspec.json.decode(data, type=Union[tuple(known)])
    return decoded


def encode_message(msg: Any) -> bytes:
    return msgspec.json.encode(msg)
