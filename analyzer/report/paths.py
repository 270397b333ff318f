"""What the machine-read formats share: repository-relative paths, URIs, clean strings."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional
from urllib.parse import quote

STDIN = "<stdin>"
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_ESCAPED_BYTE = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def to_bytes(text: str) -> bytes:
    """UTF-8, with the bytes an undecodable name was made of (``surrogateescape``) restored
    and any other lone surrogate as U+FFFD."""
    return _NOT_ESCAPED_BYTE.sub("\ufffd", text).encode("utf-8", "surrogateescape")


def clean(text: str) -> str:
    """``text`` with lone surrogates (undecodable bytes in file names) as U+FFFD, so that
    it encodes as UTF-8."""
    if text.isascii():  # the usual case, told without a scan by the pattern
        return text
    return _SURROGATE.sub("\ufffd", text)


def repo_root(start: Optional[str] = None) -> str:
    """The git top-level directory above ``start`` (default: the current directory), or
    ``start`` itself outside a git work tree."""
    here = os.path.abspath(start or os.getcwd())
    for d in (here, *map(str, Path(here).parents)):
        if os.path.exists(os.path.join(d, ".git")):
            return d
    return here


def relative_path(path: str, root: str) -> Optional[str]:
    """``path`` relative to ``root`` with forward slashes, or None when it is not below it."""
    if path == STDIN:
        return None
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute, root)
    except ValueError:  # another drive
        return None
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")


def report_path(path: str, root: str) -> str:
    """The path to show to a CI service: repository-relative when below ``root``, else
    absolute; both with forward slashes."""
    if path == STDIN:
        return path
    rel = relative_path(path, root)
    if rel is not None:
        return rel
    return os.path.abspath(path).replace(os.sep, "/")


def artifact_uri(path: str, root: str) -> str:
    """A URI reference for ``path``: relative (percent-encoded) below ``root``, a ``file:``
    URI elsewhere. Undecodable bytes in the name are encoded as the bytes they were."""
    if path == STDIN:
        return quote(path, safe="")
    rel = relative_path(path, root)
    if rel is not None:
        return quote(to_bytes(rel), safe="/")
    absolute = os.path.abspath(path).replace(os.sep, "/")
    if not absolute.startswith("/"):  # C:/dir on Windows
        absolute = "/" + absolute
    return "file://" + quote(to_bytes(absolute), safe="/:")
