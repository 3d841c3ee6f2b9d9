"""A deterministic prompt-token estimate, cheap enough to run on every packet.

Not a tokenizer (the model's own is remote and changes): a character-class count shaped on BPE
habits. ASCII letters cost one token per 4 (pooled over the text), digits one per 3 (tokenizers split numbers into
short groups), every punctuation mark, non-ASCII character and line break one; spaces ride on
the next word. Budgets and backtest preflights need the order of magnitude and a count that
never changes for the same text; the engine records the provider's real count after a call.
"""

from __future__ import annotations

import string

_CLASS = str.maketrans(
    {
        **dict.fromkeys(string.ascii_letters, "a"),
        **dict.fromkeys(string.digits, "0"),
        **dict.fromkeys(string.punctuation, "."),
        " ": None,
        "\t": None,
        "\r": None,
        "\n": "|",
    }
)


def estimate_tokens(text: str) -> int:
    if not text:
        return 0
    classes = text.translate(_CLASS)
    letters = classes.count("a")
    digits = classes.count("0")
    marks = classes.count(".")
    breaks = classes.count("|")
    other = len(classes) - letters - digits - marks - breaks
    return -(-letters // 4) + -(-digits // 3) + marks + breaks + other
