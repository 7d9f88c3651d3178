"""Arguments as Moodle's PHP reads them: nested lists and dicts flattened to bracketed names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["encode"]


def encode(arguments: Mapping[str, Any]) -> list[tuple[str, str]]:
    """`{"courseids": [2, 7]}` → `[("courseids[0]", "2"), ("courseids[1]", "7")]`.

    Lists are numbered from 0, dicts keep their keys, booleans become 1/0; None is left out.
    """
    pairs: list[tuple[str, str]] = []
    for name, value in arguments.items():
        _flatten(str(name), value, pairs)
    return pairs


def _flatten(name: str, value: Any, pairs: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{name}[{key}]", item, pairs)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _flatten(f"{name}[{index}]", item, pairs)
    elif isinstance(value, bool):
        pairs.append((name, "1" if value else "0"))
    else:
        pairs.append((name, str(value)))
