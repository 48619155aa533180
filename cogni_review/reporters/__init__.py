"""Reporters: each turns a Report into one output format; a new format is a module and a line."""

from __future__ import annotations

from typing import Callable

from ..model import Report
from . import github, json_, sarif, text

#: each renders valid UTF-8 whatever the report holds (a file name that is not UTF-8, say)
REPORTERS: dict[str, Callable[[Report], str]] = {
    "text": text.render,
    "json": json_.render,
    "github": github.render,
    "sarif": sarif.render,
}

__all__ = ["REPORTERS"]
