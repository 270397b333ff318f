"""Keeping secrets out of what the analyzer prints and stores.

A Dockerfile or a command line may carry credentials: ``--build-arg API_TOKEN=...``, an
``ARG AWS_SECRET_ACCESS_KEY=...`` default, an ``ENV GITHUB_TOKEN=ghp_...``, a password in a
URL. The lint rules name such variables (AN1012, AN3064) or show a few characters of the
value (AN5002), and a finding that quotes an expanded value shows ``***`` for a variable
whose name looks secret (``values_text``, applied by analyzer.rules.lint); everything else
that repeats Dockerfile text -- the cache plan (``--plan``), build records (``--record``,
``--build``), the docker command line and build logs -- goes through a :class:`Redactor`:

* ``text(s)`` for what people read: every known secret value, every token or key the
  AN5002 patterns recognise, every password inside a URL and the value of every
  ``NAME=value`` whose NAME looks secret become ``***``;
* ``inputs(obj)`` for what is compared later (cache-key inputs, build records): the same
  parts become ``sha256:<16 hex>`` of the value, so that a changed secret still changes the
  key and is still reported as a change, without the value being stored.

A name looks secret as BuildKit's SecretsUsedInArgOrEnv judges it (a ``_``-delimited part
apikey, auth, credential(s), key, password, pword, passwd, secret or token, unless a part is
public, file or version) or when it contains password, passwd, secret, token or api_key.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Optional
from ..lazyre import lazy

MASK = "***"
MIN_SECRET = 4  # shorter values are not masked wherever they appear (they would mask too much)

_NAME_PART = lazy(
    r"(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)", re.I
)
_NAME_ALLOW = lazy(r"(?:_|^)(?:public|file|version)(?:_|$)", re.I)
_NAME_INSIDE = ("password", "passwd", "secret", "token", "api_key", "apikey", "private_key")
_ASSIGN = lazy(r"(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|[^\s\"';&|]+)")
_NOT_SECRET = lazy(r"^(?:\*+|x+|\.\.\.|<.*>|null|none|true|false|yes|no|changeme|\$.*)$", re.I)
_URL_USERINFO = lazy(r"\b([a-z][a-z0-9+.-]*://)([^/\s:@]+):([^@\s/]+)@", re.I)


def secret_name(name: str) -> bool:
    """True when a variable named ``name`` is meant to hold a secret."""
    found = _SECRET_NAMES.get(name)
    if found is None:
        if _NAME_ALLOW.search(name):
            found = False
        elif _NAME_PART.search(name):
            found = True
        else:
            lower = name.lower()
            found = any(part in lower for part in _NAME_INSIDE)
        if len(_SECRET_NAMES) >= 4096:
            _SECRET_NAMES.clear()
        _SECRET_NAMES[name] = found
    return found


_SECRET_NAMES: dict = {}  # names recur from file to file (and each file asks for every one)


def _usable(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= MIN_SECRET and not _NOT_SECRET.match(value.strip())


def _pattern_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the tokens, keys and URL passwords the AN5002 patterns recognise."""
    from ..checks.security import secret_values

    return [(start, end) for start, end, _what in secret_values(text, assignments=False)]


def fingerprint(value: str) -> str:
    """What ``inputs`` puts in place of a secret: equal for equal values, nothing more."""
    from ..cachedir import sha256

    return "sha256:" + sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:16]


class Redactor:
    def __init__(self, values: Iterable[str] = ()):
        found = {v for v in values if _usable(v)}
        self.values: tuple[str, ...] = tuple(sorted(found, key=lambda v: (-len(v), v)))

    # -- building one -------------------------------------------------------------------------

    @classmethod
    def for_build(cls, resolution: Any = None, build_args: Optional[Mapping[str, str]] = None) -> "Redactor":
        """The secrets of one build: build args and ARG/ENV values whose names look secret,
        and the tokens the patterns find in any ARG/ENV value (``resolution``:
        analyzer.expand.Resolution)."""
        values: set[str] = set()
        judged: set = set()  # each (name, value) once: every instruction's scope repeats most of them

        def take(name: str, value: Any) -> None:
            if not isinstance(value, str) or (name, value) in judged:
                return
            judged.add((name, value))
            if secret_name(name):
                values.add(value)
            for start, end in _pattern_spans(value):
                values.add(value[start:end])

        for name, value in (build_args or {}).items():
            take(name, value)
        if resolution is not None:
            scopes = [getattr(resolution, "global_scope", None), *getattr(resolution, "scopes", {}).values(), *getattr(resolution, "final_scopes", ())]
            seen: set[int] = set()
            for scope in scopes:
                if scope is None or id(scope) in seen:
                    continue
                seen.add(id(scope))
                for mapping in (scope.values, scope.env_vars, scope.arg_vars):
                    for name, value in mapping.items():
                        take(name, value)
        return cls(values)

    @classmethod
    def of_secret_names(cls, resolution: Any = None, build_args: Any = (), names: Iterable[str] = ()) -> "Redactor":
        """Only the values of variables whose names look secret (cheap: no pattern scan);
        what lint findings quoting an expanded value need. ``names``: the variables the
        Dockerfile declares (ARG and ENV keys); only those and the build args are judged."""
        args = dict(build_args or {})
        secret = {n for n in (*args, *names) if secret_name(n)}
        values = {args[n] for n in secret if isinstance(args.get(n), str)}
        if secret and resolution is not None:
            for scope in (resolution.global_scope, *resolution.scopes.values(), *resolution.final_scopes):
                for name in secret:
                    value = scope.values.get(name)
                    if isinstance(value, str):
                        values.add(value)
                    value = scope.env_vars.get(name)
                    if isinstance(value, str):
                        values.add(value)
        return cls(values)

    def values_text(self, text: str) -> str:
        """``text`` with the known values (only) replaced by ``***``."""
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    # -- masking ------------------------------------------------------------------------------

    def _mask(self, text: str, replace) -> str:
        if not isinstance(text, str) or not text:
            return text
        for value in self.values:
            if value in text:
                text = text.replace(value, replace(value))
        spans = _pattern_spans(text)
        for start, end in sorted(spans, reverse=True):
            if text[start:end] != MASK and not text[start:end].startswith("sha256:"):
                text = text[:start] + replace(text[start:end]) + text[end:]

        def assignment(m: "re.Match[str]") -> str:
            name, value = m.group(1), m.group(2)
            inner = value[1:-1] if value[:1] in "\"'" and len(value) >= 2 else value
            if not secret_name(name) or not _usable(inner) or inner == MASK or inner.startswith("sha256:"):
                return m.group(0)
            quote = value[0] if value[:1] in "\"'" else ""
            return f"{name}={quote}{replace(inner)}{quote}"

        return _ASSIGN.sub(assignment, text)

    def text(self, text: str) -> str:
        """``text`` with every secret part replaced by ``***``."""
        return self._mask(text, lambda _v: MASK)

    def inputs(self, obj: Any, _variables: bool = False) -> Any:
        """A copy of ``obj`` (dicts, lists, strings) with secrets replaced by their
        fingerprint; in the variable maps (``env``, ``args``, ``base_env``) the value of a
        name that looks secret is replaced whole. Hashes (``digest``, ``files``, ``layers``,
        ids) are left as they are."""
        if isinstance(obj, dict):
            out = {}
            for k, v in obj.items():
                if _variables and isinstance(k, str) and secret_name(k) and isinstance(v, str) and v:
                    out[k] = fingerprint(v)
                elif k in _HASHES:
                    out[k] = v
                else:
                    out[k] = self.inputs(v, k in _VARIABLES)
            return out
        if isinstance(obj, str):
            return self._mask(obj, fingerprint)
        if isinstance(obj, list):
            return [self.inputs(v) for v in obj]
        if isinstance(obj, tuple):
            return tuple(self.inputs(v) for v in obj)
        return obj


_VARIABLES = frozenset({"env", "args", "base_env"})
_HASHES = frozenset({"digest", "files", "layers", "id", "from_id", "image_id", "key", "parent"})


def mask_url(url: str) -> str:
    """``url`` with the password of its userinfo replaced by ``***``."""
    return _URL_USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", url)
