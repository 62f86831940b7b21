"""Counted nouns for messages: "1 problem", "2 problems", never "1 problem(s)"."""
from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`counted(1, "file")` -> "1 file"; `counted(3, "file")` -> "3 files"; `plural` for the
    irregular ones (`counted(2, "data/model change")` works as is)."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def verb(n: int, singular: str, plural: str) -> str:
    """The verb agreeing with a count: `verb(1, "is", "are")` -> "is"."""
    return singular if n == 1 else plural
