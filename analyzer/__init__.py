"""dockerfile-analyzer: a Dockerfile linter and build-plan analyzer.

``analyzer.parse(text)`` returns a :class:`analyzer.model.Dockerfile`;
``analyzer.parse_file(path)`` reads, decodes and parses a file.
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._startup import install as _install_code_cache  # noqa: E402

_install_code_cache()

from .parse import parse as _parse_text  # noqa: E402  (light: the Go parser loads lazily)


def parse(text: str, path: str = "Dockerfile"):
    """Parse Dockerfile text; see :func:`analyzer.parse.parse`."""
    return _parse_text(text, path)


def parse_file(path: str):
    """Read, decode and parse a Dockerfile from disk."""
    from .parse import decode

    with open(path, "rb") as fh:
        data = fh.read()
    return _parse_text(decode(data, path), path)


__all__ = ["parse", "parse_file", "__version__"]
