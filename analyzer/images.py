"""Image references (``FROM`` arguments and friends), parsed with Docker's rules.

Grammar: ``[domain/]path[:tag][@digest]``.

* The first ``/``-separated component is a domain when it contains ``.`` or ``:``,
  is exactly ``localhost``, or contains an uppercase letter (a Docker Hub namespace
  never does). Otherwise the domain is ``docker.io``.
* ``index.docker.io`` and ``registry-1.docker.io`` are written aliases of ``docker.io``.
* On ``docker.io`` a one-component path is an official image under ``library/``.
* The tag defaults to ``latest`` only when there is no digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Optional

from analyzer.model import AnalyzerError
from .lazyre import lazy

__all__ = [
    "DEFAULT_DOMAIN",
    "DEFAULT_API_HOST",
    "DEFAULT_TAG",
    "SCRATCH",
    "ImageRef",
    "InvalidReference",
    "is_scratch",
    "looks_dynamic",
    "parse_ref",
]

DEFAULT_DOMAIN = "docker.io"
DEFAULT_API_HOST = "registry-1.docker.io"
DEFAULT_TAG = "latest"
SCRATCH = "scratch"
OFFICIAL_PREFIX = "library/"
NAME_MAX_LENGTH = 255
TAG_MAX_LENGTH = 128

_DOMAIN_ALIASES = frozenset({"index.docker.io", "registry-1.docker.io"})
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

_DOMAIN_COMPONENT = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST_RE = lazy(
    rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\]", re.ASCII
)
_PORT_RE = lazy(r"[0-9]+", re.ASCII)
_PATH_COMPONENT_RE = lazy(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*", re.ASCII)
_TAG_RE = lazy(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", re.ASCII)
_DIGEST_ALGORITHM_RE = lazy(
    r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*", re.ASCII
)
_HEX_RE = lazy(r"[0-9a-fA-F]+", re.ASCII)
_IMAGE_ID_RE = lazy(r"[a-f0-9]{64}", re.ASCII)


class InvalidReference(AnalyzerError):
    """An image reference Docker would refuse. ``reason`` names the bad part."""

    def __init__(self, reference: str, reason: str):
        self.reference = reference
        self.reason = reason
        super().__init__(f"invalid image reference {reference!r}: {reason}")


def is_scratch(text: str) -> bool:
    """True for ``scratch``, the reserved empty base image (exact spelling only)."""
    return text == SCRATCH


def looks_dynamic(text: str) -> bool:
    """True when the text still holds an unexpanded ``$variable``; do not parse it."""
    return "$" in text


@dataclass(frozen=True)
class ImageRef:
    """A parsed, normalised image reference.

    ``domain`` is normalised (aliases folded into ``docker.io``), ``path`` carries the
    ``library/`` prefix for official images, ``tag`` is ``latest`` when neither a tag
    nor a digest was written and None for a digest-only reference, and ``original`` is
    the text as written.
    """

    domain: str
    path: str
    tag: Optional[str]
    digest: Optional[str]
    original: str

    @property
    def name(self) -> str:
        """Full repository name: ``docker.io/library/ubuntu``."""
        return f"{self.domain}/{self.path}"

    @property
    def repository(self) -> str:
        """The path inside the registry: ``library/ubuntu``."""
        return self.path

    @property
    def familiar_name(self) -> str:
        """The name as Docker shows it: ``ubuntu``, ``jupyter/scipy-notebook``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        path = self.path
        if path.startswith(OFFICIAL_PREFIX):
            rest = path[len(OFFICIAL_PREFIX):]
            if "/" not in rest:
                return rest
        first, slash, _ = path.partition("/")
        if slash and _names_domain(first):
            # Without the domain the first component would be read as a registry.
            return self.name
        return path

    @property
    def familiar(self) -> str:
        """Short form: familiar name, the tag if one was written, and the digest."""
        text = self.familiar_name
        if self.explicit_tag:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def normalized(self) -> str:
        """Full form: ``docker.io/library/ubuntu:latest``, plus ``@digest`` if any."""
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def api_host(self) -> str:
        """Host to talk to for the registry API."""
        return DEFAULT_API_HOST if self.domain == DEFAULT_DOMAIN else self.domain

    @property
    def explicit_tag(self) -> bool:
        """Whether a tag was written (as opposed to the implied ``latest``)."""
        if self.tag is None:
            return False
        if self.tag != DEFAULT_TAG:
            return True
        return _split(self.original)[1] is not None

    @property
    def pinned(self) -> bool:
        """Whether the reference names a digest (content-addressed)."""
        return self.digest is not None

    def with_tag(self, tag: str) -> "ImageRef":
        """The same repository (and digest, if any) with ``tag`` written explicitly."""
        _check_tag(tag, tag)
        original = f"{self.familiar_name}:{tag}"
        if self.digest is not None:
            original += f"@{self.digest}"
        return replace(self, tag=tag, original=original)

    def __str__(self) -> str:
        return self.normalized


_PARSED: dict = {}  # text -> ImageRef (immutable): a few references recur in every file


def parse_ref(text: str) -> ImageRef:
    """Parse and normalise an image reference; raise ``InvalidReference`` if invalid."""
    if type(text) is str:
        known = _PARSED.get(text)
        if known is not None:
            return known
    ref = _parse_ref(text)
    if len(_PARSED) >= 4096:
        _PARSED.clear()
    _PARSED[text] = ref
    return ref


def _parse_ref(text: str) -> ImageRef:
    if not isinstance(text, str):
        raise TypeError(f"image reference must be a string, not {type(text).__name__}")
    if text == "":
        raise InvalidReference(text, "reference is empty")
    if looks_dynamic(text):
        raise InvalidReference(text, "contains an unexpanded variable ('$')")
    for index, char in enumerate(text):
        if char.isspace() or not char.isprintable():
            raise InvalidReference(
                text, f"contains whitespace or a control character at offset {index}"
            )
    if is_scratch(text):
        raise InvalidReference(
            text, "'scratch' is the reserved empty base image, not an image"
        )
    if _IMAGE_ID_RE.fullmatch(text):
        raise InvalidReference(
            text, "a 64-character hexadecimal string is an image ID, not a reference"
        )

    name, tag, digest = _split(text)
    domain, path = _split_domain(name)
    if domain != DEFAULT_DOMAIN:
        _check_domain(text, domain)
    _check_path(text, path)
    if domain in _DOMAIN_ALIASES:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_PREFIX + path
    full_name = f"{domain}/{path}"
    if len(full_name) > NAME_MAX_LENGTH:
        raise InvalidReference(
            text,
            f"repository name {full_name!r} is longer than {NAME_MAX_LENGTH} characters",
        )
    if tag is not None:
        _check_tag(text, tag)
    if digest is not None:
        _check_digest(text, digest)
    elif tag is None:
        tag = DEFAULT_TAG
    return ImageRef(domain=domain, path=path, tag=tag, digest=digest, original=text)


def _split(text: str) -> tuple[str, Optional[str], Optional[str]]:
    """Cut ``text`` into name, tag and digest without validating anything."""
    name, at, digest_part = text.partition("@")
    digest = digest_part if at else None
    tag: Optional[str] = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1:]
    return name, tag, digest


def _names_domain(component: str) -> bool:
    return (
        component == "localhost"
        or "." in component
        or ":" in component
        or component.lower() != component
    )


def _split_domain(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if slash and _names_domain(first):
        return first, rest
    return DEFAULT_DOMAIN, name


def _check_domain(text: str, domain: str) -> None:
    if domain == "":
        raise InvalidReference(text, "registry host is empty")
    host, port = domain, None
    if domain.startswith("["):
        end = domain.find("]")
        if end != -1 and domain[end + 1:end + 2] == ":":
            host, port = domain[:end + 1], domain[end + 2:]
    elif ":" in domain:
        host, _, port = domain.partition(":")
    if not _HOST_RE.fullmatch(host):
        raise InvalidReference(text, f"invalid registry host {host!r}")
    if port is not None and not _PORT_RE.fullmatch(port):
        raise InvalidReference(text, f"invalid port {port!r} in registry {domain!r}")


def _check_path(text: str, path: str) -> None:
    if path == "":
        raise InvalidReference(text, "repository name is empty")
    for component in path.split("/"):
        if component == "":
            raise InvalidReference(
                text, f"repository name {path!r} has an empty path component"
            )
        if component.lower() != component:
            raise InvalidReference(
                text,
                f"repository name must be lowercase (path component {component!r})",
            )
        if not _PATH_COMPONENT_RE.fullmatch(component):
            raise InvalidReference(
                text,
                f"invalid path component {component!r}: use lowercase letters and "
                "digits separated by '.', '_', '__' or '-'",
            )


def _check_tag(text: str, tag: str) -> None:
    if tag == "":
        raise InvalidReference(text, "tag after ':' is empty")
    if len(tag) > TAG_MAX_LENGTH:
        raise InvalidReference(
            text, f"tag {tag[:20]!r}... is longer than {TAG_MAX_LENGTH} characters"
        )
    if not _TAG_RE.fullmatch(tag):
        raise InvalidReference(
            text,
            f"invalid tag {tag!r}: use letters, digits, '_', '.' and '-', "
            "not starting with '.' or '-'",
        )


def _check_digest(text: str, digest: str) -> None:
    if digest == "":
        raise InvalidReference(text, "digest after '@' is empty")
    algorithm, colon, hex_part = digest.partition(":")
    if not colon or not _DIGEST_ALGORITHM_RE.fullmatch(algorithm):
        raise InvalidReference(
            text, f"invalid digest {digest!r}: expected 'algorithm:hex'"
        )
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise InvalidReference(text, f"unsupported digest algorithm {algorithm!r}")
    if len(hex_part) != expected or not _HEX_RE.fullmatch(hex_part):
        raise InvalidReference(
            text,
            f"invalid {algorithm} digest: expected {expected} hexadecimal characters, "
            f"got {hex_part!r}",
        )
    if hex_part.lower() != hex_part:
        raise InvalidReference(
            text, f"invalid {algorithm} digest: hexadecimal must be lowercase"
        )
