"""Regular expressions compiled the first time they are used.

A check module holds dozens of patterns, most of which a given Dockerfile never reaches;
compiling them all at import is a visible part of analysing one small file.
"""

from __future__ import annotations

import re
from typing import Optional


class LazyPattern:
    """Stands in for ``re.compile(pattern, flags)``; compiles on first use.

    Once compiled, the compiled pattern's own methods are set on the instance, where they
    shadow the methods below: later calls go straight to the pattern."""

    _METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "split")

    def __init__(self, pattern: str, flags: int = 0):
        self._source = pattern
        self._flags = flags
        self._compiled: Optional[re.Pattern] = None

    @property
    def compiled(self) -> re.Pattern:
        c = self._compiled
        if c is None:
            c = self._compiled = re.compile(self._source, self._flags)
            for name in self._METHODS:
                setattr(self, name, getattr(c, name))
        return c

    @property
    def pattern(self) -> str:
        return self._source

    @property
    def flags(self) -> int:
        return self.compiled.flags

    def search(self, *args, **kwargs):
        return self.compiled.search(*args, **kwargs)

    def match(self, *args, **kwargs):
        return self.compiled.match(*args, **kwargs)

    def fullmatch(self, *args, **kwargs):
        return self.compiled.fullmatch(*args, **kwargs)

    def finditer(self, *args, **kwargs):
        return self.compiled.finditer(*args, **kwargs)

    def findall(self, *args, **kwargs):
        return self.compiled.findall(*args, **kwargs)

    def sub(self, *args, **kwargs):
        return self.compiled.sub(*args, **kwargs)

    def split(self, *args, **kwargs):
        return self.compiled.split(*args, **kwargs)

    def __repr__(self) -> str:
        return f"LazyPattern({self._source!r})"


def lazy(pattern: str, flags: int = 0) -> LazyPattern:
    return LazyPattern(pattern, flags)
