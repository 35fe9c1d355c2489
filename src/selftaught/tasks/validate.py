"""Answer validation shared by the task graders.

Answers arrive as decoded JSON, so they are built from dict, list, str, int, float, bool and None.
Each helper either returns a clean Python value or raises `InvalidAnswer` with a readable reason.
"""

from __future__ import annotations

from typing import Any

from selftaught.tasks.base import InvalidAnswer


def describe(value: Any) -> str:
    """A short description of a value's type (and length), for error messages."""
    name = type(value).__name__
    if isinstance(value, list | str | dict):
        return f"{name} of length {len(value)}"
    return name


def as_list(answer: Any, length: int, what: str) -> list[Any]:
    """Require a list of exactly `length` items."""
    if not isinstance(answer, list):
        raise InvalidAnswer(f"expected a list of {length} {what}, got {describe(answer)}")
    if len(answer) != length:
        raise InvalidAnswer(f"expected a list of {length} {what}, got {len(answer)} items")
    return answer


def as_bits(answer: Any, length: int, what: str = "0/1 labels") -> list[int]:
    """Require `length` labels each equal to 0 or 1 (bools and 0.0/1.0 are accepted)."""
    items = as_list(answer, length, what)
    bits = []
    for position, item in enumerate(items):
        if isinstance(item, bool) or (isinstance(item, int | float) and item in (0, 1)):
            bits.append(int(item))
        else:
            raise InvalidAnswer(f"item {position} is {item!r}; each of the {what} must be 0 or 1")
    return bits


def as_permutation(answer: Any, size: int) -> list[int]:
    """Require a permutation of range(size) given as integers."""
    items = as_list(answer, size, "location indices")
    perm = []
    for position, item in enumerate(items):
        whole = isinstance(item, int) or (isinstance(item, float) and item.is_integer())
        if isinstance(item, bool) or not whole:
            raise InvalidAnswer(f"item {position} is {item!r}, not an integer location index")
        perm.append(int(item))
    if sorted(perm) != list(range(size)):
        raise InvalidAnswer(f"not a permutation of 0..{size - 1}: each location must appear once")
    return perm


def as_string(answer: Any, length: int, alphabet: str) -> str:
    """Require a string of exactly `length` characters drawn from `alphabet`."""
    if not isinstance(answer, str):
        raise InvalidAnswer(f"expected a string of length {length}, got {describe(answer)}")
    if len(answer) != length:
        raise InvalidAnswer(f"expected a string of length {length}, got length {len(answer)}")
    stray = set(answer) - set(alphabet)
    if stray:
        raise InvalidAnswer(f"characters {sorted(stray)!r} are not in the alphabet {alphabet!r}")
    return answer
