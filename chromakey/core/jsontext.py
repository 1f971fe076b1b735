"""JSON from users, bounded in depth before it is parsed.

Python's JSON parser recurses once per level, so ``[[[[…`` 100,000 deep is a RecursionError
(and every later ``repr`` or ``json.dumps`` of it is another). Nothing we read — a
background object, a manifest line — is more than a few levels deep, so text nested deeper
than MAX_JSON_DEPTH is refused before parsing, naming the top-level field it is under.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .errors import ParameterError
from .quote import quoted

# Deeper than any background object or manifest line needs (they use three levels).
MAX_JSON_DEPTH = 32

_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class JsonDepthError(ParameterError):
    """JSON nested deeper than MAX_JSON_DEPTH; ``key`` is the top-level field it is under."""

    def __init__(self, message: str, key: str | None) -> None:
        super().__init__(message)
        self.key = key


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> tuple[int, str | None] | None:
    """Where ``text`` first nests deeper than ``limit``: (column from 1, the top-level key it
    is under, if any); None when it does not."""
    if text.count("[") + text.count("{") <= limit:
        return None
    depth = 0
    key: str | None = None
    for m in _TOKENS.finditer(text):
        token = m.group()
        if token[0] == '"':
            if depth == 1:
                key = token
            continue
        if token in "[{":
            depth += 1
            if depth > limit:
                try:
                    name = json.loads(key) if key is not None else None
                except json.JSONDecodeError:
                    name = None
                return m.start() + 1, name if isinstance(name, str) else None
        else:
            depth -= 1
    return None


def nested_deeper(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed value (dicts and lists) nests deeper than ``limit``; no recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children = list(item.values())
        elif isinstance(item, (list, tuple)):
            children = list(item)
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def loads(text: str, what: str, example: str) -> Any:
    """``text`` parsed as JSON, or a one-line ParameterError naming ``what`` and showing
    ``example``: malformed, or nested deeper than MAX_JSON_DEPTH (JsonDepthError)."""
    deep = too_deep(text)
    if deep is not None:
        column, key = deep
        under = f" (under {quoted(key)})" if key else ""
        raise JsonDepthError(
            f"{what} nests deeper than {MAX_JSON_DEPTH} levels at column {column}{under}; "
            f"write it like {example}",
            key,
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError(
            f"{what} is malformed: {exc.msg} at line {exc.lineno} column {exc.colno}; "
            f"write it like {example}"
        ) from exc
    except RecursionError as exc:  # a depth the scan let through, on a small stack
        raise JsonDepthError(f"{what} nests too deeply; write it like {example}", None) from exc
