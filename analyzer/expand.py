"""BuildKit's variable semantics: word expansion and ARG/ENV scoping.

Two layers, both pure (no I/O):

* :func:`expand` performs the word expansion of BuildKit's shell lexer, the one the
  Dockerfile frontend applies to FROM, ADD, COPY, ENV, ARG, LABEL, EXPOSE, STOPSIGNAL,
  USER, VOLUME, WORKDIR and to flags (never to RUN/CMD/ENTRYPOINT, whose text goes to
  a shell). Supported forms: ``$x``, ``${x}``, ``${x:-w}``, ``${x-w}``, ``${x:+w}``,
  ``${x+w}``, ``${x:?m}``, ``${x?m}``, ``${x#p}``, ``${x##p}``, ``${x%p}``,
  ``${x%%p}``, ``${x/p/r}`` and ``${x//p/r}``; single quotes are literal, double quotes
  allow expansion, the escape character escapes the next character, and quotes are
  removed from the result.

* :func:`resolve` walks a parsed :class:`~analyzer.model.Dockerfile` the way
  BuildKit's dispatcher does and records, for every instruction, the variables in
  effect before it, plus what every ``FROM`` resolves to.

BuildKit behaviour this module follows (and which differs from the classic builder
or from bash):

* Patterns in ``#``, ``%`` and ``/`` forms know ``*`` and ``?`` only. ``[`` and ``]``
  are literal characters (BuildKit escapes them before building its regular
  expression). ``*`` and ``?`` do not match a newline. Quote removal happens before
  the pattern is interpreted, so ``"*"`` is still a wildcard; write ``\\*`` for a
  literal star.
* Patterns and replacement texts are read in BuildKit's raw-escape mode: the escape
  character stays in them, so ``${x/a/\\}}`` replaces ``a`` by ``\\}`` (backslash
  included), and a replacement is inserted literally.
* ``${x/p}`` (no replacement part) is a syntax error, ``${x:=w}`` is an unsupported
  modifier, ``${#x}`` is an unsupported modifier; ``${x:#p}`` and ``${x:%p}`` work
  like ``${x#p}`` and ``${x%p}``.
* Every name looked up while it is unset is reported in ``Expansion.undefined``,
  including names inside a default that ends up unused and names guarded by
  ``:-``; ``Expansion.missing`` holds the subset that was substituted by nothing
  (no default applied), which is what makes a result unreliable.
* All pairs of one ``ENV`` instruction are expanded with the environment before the
  instruction: ``ENV A=1 B=$A`` gives B the *previous* A. ``ENV`` keys are expanded
  too.
* The pairs of one ``ARG`` instruction are processed one after the other:
  ``ARG A=1 B=$A`` gives B the value 1. ARG keys are not expanded.
* ``ARG`` and ``ENV`` write to one build environment and the latest write wins. An
  ``ENV`` after an ``ARG`` of the same name overrides it; an ``ARG`` *with a value*
  after an ``ENV`` of the same name overrides it for the rest of the stage (the
  image's ENV keeps the ENV value). An ``ARG NAME`` that ends up without a value
  (no default, no build arg, no global value) changes nothing.
* A stage built ``FROM`` an earlier stage starts from that stage's final build
  environment with the stage's ENV applied on top, so ENV *and* ARG values are
  inherited (BuildKit documents ARG inheritance into child stages since 2024). A
  stage never sees the variables of a sibling stage.
* ``FROM`` matches an earlier stage by its exact (lower-cased) name after expansion;
  ``FROM 0`` is an image called ``0``, not stage 0.
* Predefined platform args (TARGETARCH & co.) are in the global scope, so FROM can use
  them; inside a stage they exist only after ``ARG NAME``. Proxy build args
  (HTTP_PROXY & co., any case) are handed to RUN without an ARG but are not visible
  to word expansion or to FROM.
* Every stage starts with ``PATH`` set to BuildKit's default unless the base image
  (see ``image_env``) or the parent stage sets it (Windows stages excepted).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Optional, Union

from analyzer.model import AnalyzerError, Dockerfile, Instruction

__all__ = [
    "BUILDKIT_DEFAULT_PATH",
    "MAX_EXPANSION",
    "PLATFORM_ARGS",
    "PROXY_ARGS",
    "Expansion",
    "ExpansionError",
    "ExpansionTooLarge",
    "Platform",
    "Resolution",
    "ResolutionError",
    "ResolvedStage",
    "Scope",
    "expand",
    "expand_words",
    "is_predefined_arg",
    "parse_platform",
    "resolve",
]

MAX_EXPANSION = 1 << 20  # the largest result one expansion may produce (characters)
MAX_TOTAL = 64 << 20  # the most variable text one resolution may hold
# variables in effect, summed over every instruction: each instruction gets its own view of
# them, so a file setting thousands of names over thousands of lines costs (names x lines)
MAX_SCOPE_ENTRIES = 2_000_000
MAX_DEPTH = 100  # nesting of ${...} inside ${...}

BUILDKIT_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PROXY_ARGS = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "ftp_proxy",
    "no_proxy",
    "all_proxy",
)
PLATFORM_ARGS = (
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDOSVERSION",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETOSVERSION",
    "TARGETARCH",
    "TARGETVARIANT",
    "TARGETSTAGE",
)
_PROXY_FOLDED = frozenset(p.lower() for p in PROXY_ARGS)
# ARGs BuildKit reads itself; they never enter the build environment.
_NON_ENV_ARGS = frozenset({"BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"})
_SPECIAL_PARAMS = frozenset("@*#?-$!0")
_BLANK_ARG = "ARG names can not be blank"


class ExpansionError(AnalyzerError):
    """A word BuildKit refuses to expand (bad substitution, ``${x:?}``, ...)."""

    def __init__(self, message: str, word: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.word = word


class ExpansionTooLarge(ExpansionError):
    """An expansion grew past :data:`MAX_EXPANSION` characters."""

    def __init__(self, word: Optional[str] = None, message: str = "variable expansion too large"):
        super().__init__(message, word)


@dataclass(frozen=True)
class Expansion:
    """The result of expanding one word.

    ``undefined``: names looked up while unset, in order of first appearance (what
    BuildKit reports as unmatched). ``used``: names that were found. ``missing``: the
    unset names that were substituted without a fallback (``$x``, ``${x}``,
    ``${x#p}``, ``${x/p/r}``), as opposed to ``${x:-w}``, ``${x:+w}``, ``${x:?m}``.
    """

    value: str
    undefined: tuple[str, ...] = ()
    used: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


# --------------------------------------------------------------------------- #
# Word expansion
# --------------------------------------------------------------------------- #


class _Buffer:
    __slots__ = ("parts", "size", "word")

    def __init__(self, word: str):
        self.parts: list[str] = []
        self.size = 0
        self.word = word

    def add(self, text: str) -> None:
        if text:
            self.size += len(text)
            if self.size > MAX_EXPANSION:
                raise ExpansionTooLarge(self.word)
            self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)


_RUNS: dict[tuple[str, Optional[str]], "re.Pattern[str]"] = {}


def _plain_run(escape: str, stop: Optional[str]) -> "re.Pattern[str]":
    """Characters with no meaning to the lexer (outside quotes), as one regex."""
    key = (escape, stop)
    pat = _RUNS.get(key)
    if pat is None:
        special = "$'\"" + escape + (stop or "")
        pat = _RUNS[key] = re.compile("[^" + re.escape(special) + "]+")
    return pat


class _Lexer:
    """One pass over a word, mirroring BuildKit's ``shellWord`` state machine."""

    def __init__(self, word: str, env: Mapping[str, str], escape: str):
        self.text = word
        self.n = len(word)
        self.pos = 0
        self.env = env
        self.escape = escape
        self.depth = 0
        self.undefined: dict[str, None] = {}
        self.used: dict[str, None] = {}
        self.missing: dict[str, None] = {}

    # -- helpers ------------------------------------------------------------ #

    def _error(self, message: str) -> ExpansionError:
        return ExpansionError(message, self.text)

    def _lookup(self, name: str, guarded: bool) -> tuple[str, bool]:
        if name in self.env:
            self.used.setdefault(name, None)
            return self.env[name], True
        self.undefined.setdefault(name, None)
        if not guarded:
            self.missing.setdefault(name, None)
        return "", False

    def _name(self) -> str:
        text, start = self.text, self.pos
        if start >= self.n:
            return ""
        ch = text[start]
        if ch.isdecimal():
            end = start + 1
            while end < self.n and text[end].isdecimal():
                end += 1
            self.pos = end
            return text[start:end]
        if ch in _SPECIAL_PARAMS:
            self.pos = start + 1
            return ch
        end = start
        while end < self.n:
            c = text[end]
            if not (c.isalpha() or c.isdecimal() or c == "_"):
                break
            end += 1
        self.pos = end
        return text[start:end]

    # -- the grammar -------------------------------------------------------- #

    def word(self, stop: Optional[str], raw_escapes: bool) -> str:
        """Read up to ``stop`` (consumed) or the end; ``raw_escapes`` keeps escapes."""
        out = _Buffer(self.text)
        text, escape = self.text, self.escape
        while self.pos < self.n:
            ch = text[self.pos]
            if stop is not None and ch == stop:
                self.pos += 1
                return out.text()
            if ch == "$":
                out.add(self._dollar())
            elif ch == "'":
                out.add(self._single_quote())
            elif ch == '"':
                out.add(self._double_quote(raw_escapes))
            elif ch == escape:
                self.pos += 1
                if raw_escapes:
                    out.add(ch)
                if self.pos >= self.n:
                    break
                out.add(text[self.pos])
                self.pos += 1
            else:
                m = _plain_run(escape, stop).match(text, self.pos)
                end = m.end() if m and m.end() > self.pos else self.pos + 1
                out.add(text[self.pos:end])
                self.pos = end
        if stop is not None:
            raise self._error(f"unexpected end of statement while looking for matching {stop}")
        return out.text()

    def _single_quote(self) -> str:
        start = self.pos + 1
        end = self.text.find("'", start)
        if end < 0:
            self.pos = self.n
            raise self._error("unexpected end of statement while looking for matching single-quote")
        self.pos = end + 1
        return self.text[start:end]

    def _double_quote(self, raw_escapes: bool) -> str:
        out = _Buffer(self.text)
        text, escape = self.text, self.escape
        self.pos += 1
        while True:
            if self.pos >= self.n:
                raise self._error("unexpected end of statement while looking for matching double-quote")
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                return out.text()
            if ch == "$":
                out.add(self._dollar())
                continue
            self.pos += 1
            if ch == escape:
                if raw_escapes:
                    out.add(ch)
                if self.pos >= self.n:
                    continue
                nxt = text[self.pos]
                if nxt in ('"', "$", escape):
                    ch = nxt
                    self.pos += 1
            out.add(ch)

    def _nested(self, stop: str, raw_escapes: bool, eof_message: str) -> str:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._error("variable expansion nested too deeply")
        try:
            return self.word(stop, raw_escapes)
        except ExpansionTooLarge:
            raise
        except ExpansionError:
            if self.pos >= self.n:
                raise self._error(eof_message) from None
            raise
        finally:
            self.depth -= 1

    def _dollar(self) -> str:
        self.pos += 1
        if self.pos >= self.n or self.text[self.pos] != "{":
            name = self._name()
            if not name:
                return "$"
            return self._lookup(name, guarded=False)[0]

        self.pos += 1
        if self.pos >= self.n:
            raise self._error("syntax error: missing '}'")
        if self.text[self.pos] in "{}:":
            raise self._error("syntax error: bad substitution")
        name = self._name()
        if self.pos >= self.n:
            raise self._error("syntax error: missing '}'")
        ch = self.text[self.pos]
        self.pos += 1
        if ch == "}":
            return self._lookup(name, guarded=False)[0]

        if ch == "/":
            return self._replace(name)

        null_is_unset = False
        modifier = ch
        if ch == ":":
            null_is_unset = True
            if self.pos >= self.n:
                raise self._error("syntax error: missing '}'")
            ch = self.text[self.pos]
            self.pos += 1
            modifier = ":" + ch
        if ch not in "+-?#%":
            raise self._error(f"unsupported modifier ({modifier}) in substitution")

        guarded = ch in "+-?"
        value, is_set = self._lookup(name, guarded)
        word = self._nested("}", ch in "#%", "syntax error: missing '}'")
        empty = not is_set or (null_is_unset and value == "")
        if ch == "-":
            return word if empty else value
        if ch == "+":
            return "" if empty else word
        if ch == "?":
            if not is_set:
                raise self._error(f"{name}: {word or 'is not allowed to be unset'}")
            if null_is_unset and value == "":
                raise self._error(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        longest = word.startswith(ch)
        if longest:
            word = word[1:]
        if ch == "#":
            return _trim_prefix(value, word, longest)
        return _trim_suffix(value, word, longest)

    def _replace(self, name: str) -> str:
        replace_all = self.pos < self.n and self.text[self.pos] == "/"
        if replace_all:
            self.pos += 1
        pattern = self._nested("/", True, "syntax error: missing '/' in ${}")
        replacement = self._nested("}", True, "syntax error: missing '}'")
        value, _ = self._lookup(name, guarded=False)
        return _substitute(value, pattern, replacement, replace_all, self.text)


def expand(word: str, env: Mapping[str, str], escape: str = "\\") -> Expansion:
    """Expand ``word`` the way BuildKit's lexer does for Dockerfile instructions.

    Raises :class:`ExpansionError` for what BuildKit refuses (the message is
    BuildKit's, e.g. ``"x: is not allowed to be unset"`` for ``${x?}``) and
    :class:`ExpansionTooLarge` when the result would exceed :data:`MAX_EXPANSION`.
    """
    if len(escape) != 1:
        raise ValueError(f"escape must be one character, not {escape!r}")
    if (
        len(word) <= MAX_EXPANSION
        and "$" not in word and "'" not in word and '"' not in word and escape not in word
    ):  # nothing for the lexer to do (most words): the word itself, no variable read
        found = _PLAIN_WORDS.get(word)
        if found is None:
            if len(_PLAIN_WORDS) >= 8192:
                _PLAIN_WORDS.clear()
            found = _PLAIN_WORDS[word] = Expansion(value=word, undefined=(), used=(), missing=())
        return found  # immutable: one for each word
    lexer = _Lexer(word, env, escape)
    try:
        value = lexer.word(None, False)
    except ExpansionError as exc:
        if exc.word is None:
            exc.word = word
        raise
    return Expansion(
        value=value,
        undefined=tuple(lexer.undefined),
        used=tuple(lexer.used),
        missing=tuple(lexer.missing),
    )


_PLAIN_WORDS: dict = {}  # a word without $, quotes or the escape character -> its Expansion


def expand_words(words: Iterable[str], env: Mapping[str, str], escape: str = "\\") -> tuple[Expansion, ...]:
    """:func:`expand` applied to every word, in order."""
    return tuple(expand(w, env, escape) for w in words)


# --------------------------------------------------------------------------- #
# Patterns: "*" any run, "?" any character (neither matches a newline)
# --------------------------------------------------------------------------- #


class _Wild:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


_STAR = _Wild("*")
_ANY = _Wild("?")
_Token = Union[str, _Wild]


def _glob_tokens(pattern: str) -> list[_Token]:
    """Tokens of a ``${x#pattern}`` pattern, with BuildKit's escape rules.

    A backslash before ``}`` or ``/`` disappears; before ``*``, ``?`` or ``\\`` it makes
    that character literal; before anything else it is an error. Everything that is
    not ``*``, ``?`` or ``\\`` is literal (``[`` included).
    """
    tokens: list[_Token] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if not tokens or tokens[-1] is not _STAR:
                tokens.append(_STAR)
        elif c == "?":
            tokens.append(_ANY)
        elif c == "\\":
            if i < n and pattern[i] in "}/":
                continue
            if i >= n or pattern[i] not in "*?\\":
                bad = pattern[i] if i < n else ""
                raise ExpansionError(
                    f"invalid pattern ({pattern}) in substitution: invalid escape '\\{bad}'"
                )
            tokens.append(pattern[i])
            i += 1
        else:
            tokens.append(c)
    return tokens


class _Glob:
    """A compiled pattern.

    Patterns without ``*`` have a fixed length and go to :mod:`re` (no backtracking
    blow-up is possible); patterns with ``*`` run as a state machine over the text, so
    the work stays proportional to ``len(text) * len(pattern)`` whatever the input.
    """

    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.m = len(tokens)
        self.literal: Optional[str] = None
        self.regex: Optional[re.Pattern[str]] = None
        if all(isinstance(t, str) for t in tokens):
            self.literal = "".join(tokens)  # type: ignore[arg-type]
        elif _STAR not in tokens:
            source = "".join("." if t is _ANY else re.escape(t) for t in tokens)  # type: ignore[arg-type]
            self.regex = re.compile(source)
        self.star = 0
        self.any = 0
        self.lits: dict[str, int] = {}
        for j, t in enumerate(tokens):
            if t is _STAR:
                self.star |= 1 << j
            elif t is _ANY:
                self.any |= 1 << j
            else:
                self.lits[t] = self.lits.get(t, 0) | (1 << j)  # type: ignore[index]
        self.accept = 1 << self.m
        self.steps: dict[str, int] = {}
        self._reverse: Optional[_Glob] = None

    def _advance(self, c: str) -> int:
        mask = self.lits.get(c, 0) | (self.any if c != "\n" else 0)
        self.steps[c] = mask
        return mask

    def match_end(self, text: str, start: int, longest: bool) -> Optional[int]:
        """End of the shortest (or longest) match anchored at ``text[start]``."""
        if self.literal is not None:
            return start + len(self.literal) if text.startswith(self.literal, start) else None
        if self.regex is not None:
            found = self.regex.match(text, start)
            return found.end() if found else None
        if not self._may_match(text, start):
            return None
        star, accept, steps = self.star, self.accept, self.steps
        states = 1 | ((1 & star) << 1)
        best = None
        if states & accept:
            best = start
            if not longest:
                return best
        for i in range(start, len(text)):
            c = text[i]
            mask = steps.get(c)
            if mask is None:
                mask = self._advance(c)
            nxt = (states & mask) << 1
            if c != "\n":
                nxt |= states & star
            states = nxt | ((nxt & star) << 1)
            if not states:
                break
            if states & accept:
                best = i + 1
                if not longest:
                    break
        return best

    def _may_match(self, text: str, pos: int) -> bool:
        """Quick rejection: the literal characters must occur in order after ``pos``."""
        at = pos
        for t in self.tokens:
            if isinstance(t, str):
                at = text.find(t, at)
                if at < 0:
                    return False
                at += 1
        return True

    def search(self, text: str, pos: int) -> Optional[tuple[int, int]]:
        """Leftmost match at or after ``pos``, the longest one at that start."""
        if self.literal is not None:
            i = text.find(self.literal, pos)
            return None if i < 0 else (i, i + len(self.literal))
        if self.regex is not None:
            found = self.regex.search(text, pos)
            return None if found is None else found.span()
        if not self._may_match(text, pos):
            return None
        if "\n" in self.lits:
            return self._search_threads(text, pos)
        return self._search_lines(text, pos)

    def _search_lines(self, text: str, pos: int) -> Optional[tuple[int, int]]:
        # No match crosses a newline, so each line is scanned right to left with the
        # reversed pattern: every position where it accepts starts a match, and the
        # last such position seen is the leftmost start.
        rev = self.reverse()
        star, accept, steps = rev.star, rev.accept, rev.steps
        initial = 1 | ((1 & star) << 1)
        n = len(text)
        line = pos
        while line <= n:
            line_end = text.find("\n", line)
            if line_end < 0:
                line_end = n
            states = 0
            start = None
            for q in range(line_end, line - 1, -1):
                states |= initial
                if states & accept:
                    start = q
                if q == line:
                    break
                c = text[q - 1]
                mask = steps.get(c)
                if mask is None:
                    mask = rev._advance(c)
                nxt = ((states & mask) << 1) | (states & star)
                states = nxt | ((nxt & star) << 1)
            if start is not None:
                end = self.match_end(text, start, longest=True)
                assert end is not None
                return start, end
            line = line_end + 1
        return None

    def _search_threads(self, text: str, pos: int) -> Optional[tuple[int, int]]:
        # General case (the pattern holds a newline): one pass that remembers, for
        # every state, the smallest start that reached it.
        tokens, m = self.tokens, self.m
        initial = (0, 1) if tokens and tokens[0] is _STAR else (0,)
        threads: dict[int, int] = {}
        best: Optional[int] = None
        i, n = pos, len(text)
        while True:
            if best is None:
                for j in initial:
                    threads.setdefault(j, i)
            s = threads.get(m)
            if s is not None and (best is None or s < best):
                best = s
            if best is not None:
                threads = {j: s for j, s in threads.items() if s < best}
            if i >= n or not threads:
                break
            c = text[i]
            moved: dict[int, int] = {}
            for j, s in threads.items():
                if j == m:
                    continue
                t = tokens[j]
                if t is _STAR:
                    if c == "\n":
                        continue
                    k = j
                elif t is _ANY:
                    if c == "\n":
                        continue
                    k = j + 1
                elif t == c:
                    k = j + 1
                else:
                    continue
                old = moved.get(k)
                if old is None or s < old:
                    moved[k] = s
                if k < m and tokens[k] is _STAR:
                    old = moved.get(k + 1)
                    if old is None or s < old:
                        moved[k + 1] = s
            threads = moved
            i += 1
        if best is None:
            return None
        end = self.match_end(text, best, longest=True)
        return None if end is None else (best, end)

    def reverse(self) -> "_Glob":
        if self._reverse is None:
            self._reverse = _Glob(self.tokens[::-1])
        return self._reverse


@functools.lru_cache(maxsize=256)
def _compile(pattern: str) -> _Glob:
    return _Glob(_glob_tokens(pattern))


def _trim_prefix(value: str, pattern: str, longest: bool) -> str:
    end = _compile(pattern).match_end(value, 0, longest)
    return value if end is None else value[end:]


def _trim_suffix(value: str, pattern: str, longest: bool) -> str:
    glob = _compile(pattern)
    if glob.literal is not None:
        return value[: len(value) - len(glob.literal)] if value.endswith(glob.literal) else value
    if glob.regex is not None:
        start = len(value) - glob.m
        if start >= 0 and glob.regex.fullmatch(value, start):
            return value[:start]
        return value
    end = glob.reverse().match_end(value[::-1], 0, longest)
    return value if end is None else value[: len(value) - end]


def _substitute(value: str, pattern: str, replacement: str, replace_all: bool, word: str) -> str:
    glob = _compile(pattern)
    if glob.literal is not None and replace_all:
        lit = glob.literal
        if len(value) + value.count(lit) * (len(replacement) - len(lit)) > MAX_EXPANSION:
            raise ExpansionTooLarge(word)
        return value.replace(lit, replacement)
    if glob.regex is not None and replace_all:
        # Fixed-length, non-empty matches: re's and Go's replace-all agree.
        if len(replacement) > glob.m:
            count = sum(1 for _ in glob.regex.finditer(value))
            if len(value) + count * (len(replacement) - glob.m) > MAX_EXPANSION:
                raise ExpansionTooLarge(word)
        return glob.regex.sub(replacement.replace("\\", "\\\\"), value)
    out = _Buffer(word)
    last_end = 0
    search = 0
    n = len(value)
    while search <= n:
        found = glob.search(value, search)
        if found is None:
            break
        start, end = found
        out.add(value[last_end:start])
        if end > last_end or start == 0:
            out.add(replacement)
        last_end = end
        if not replace_all:
            break
        search = search + 1 if search + 1 > end else end
    out.add(value[last_end:])
    return out.text()


# --------------------------------------------------------------------------- #
# Platforms
# --------------------------------------------------------------------------- #

_KNOWN_OS = frozenset(
    "linux windows darwin freebsd netbsd openbsd dragonfly solaris illumos aix android ios js"
    " wasip1 plan9".split()
)
_ARCH_ALIASES = {
    "x86_64": ("amd64", ""),
    "x86-64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "i386": ("386", ""),
    "i486": ("386", ""),
    "i586": ("386", ""),
    "i686": ("386", ""),
}


@dataclass(frozen=True)
class Platform:
    """A target platform (``os/arch[/variant]``)."""

    os: str
    arch: str
    variant: str = ""

    def __str__(self) -> str:
        return f"{self.os}/{self.arch}/{self.variant}" if self.variant else f"{self.os}/{self.arch}"


def parse_platform(text: str) -> Platform:
    """``os/arch[/variant]`` normalized the way containerd does (``arm`` -> ``arm/v7``)."""
    parts = [p.strip().lower() for p in text.strip().split("/")]
    if not text.strip() or len(parts) > 3 or any(not p for p in parts):
        raise AnalyzerError(f"invalid platform {text!r}: expected os/arch[/variant]")
    if len(parts) == 1:
        if parts[0] in _KNOWN_OS:
            parts = [parts[0], "amd64"]
        else:
            parts = ["linux", parts[0]]
    os_name, arch = parts[0], parts[1]
    variant = parts[2] if len(parts) == 3 else ""
    if arch in _ARCH_ALIASES:
        arch, implied = _ARCH_ALIASES[arch]
        variant = variant or implied
    if arch == "arm64" and variant in ("8", "v8", "v8.0"):
        variant = ""
    elif arch == "amd64" and variant == "v1":
        variant = ""
    elif arch == "arm":
        if variant in ("", "7"):
            variant = "v7"
        elif variant in ("5", "6", "8"):
            variant = "v" + variant
    return Platform(os_name, arch, variant)


def _platform_os(text: Optional[str]) -> Optional[str]:
    if not text:
        return None
    try:
        return parse_platform(text).os
    except AnalyzerError:
        return None


def is_predefined_arg(name: str) -> bool:
    """True for names BuildKit consumes without an ARG (proxies, platform, BUILDKIT_*)."""
    return (
        name in PLATFORM_ARGS
        or name.lower() in _PROXY_FOLDED
        or name.startswith("BUILDKIT_")
        or name == "SOURCE_DATE_EPOCH"
    )


# --------------------------------------------------------------------------- #
# Scoping
# --------------------------------------------------------------------------- #


def _frozen(d: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(d))


_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, eq=False)
class Scope(Mapping[str, str]):
    """The variables in effect at one point of the Dockerfile.

    As a mapping it is the environment a ``RUN`` would get: ``values`` plus any
    proxy build args (which BuildKit hands to RUN without an ARG).

    * ``values``: what word expansion sees (BuildKit's build environment: ENV and ARG
      values, the latest write winning). Use it with :func:`expand`.
    * ``env_vars``: ENV values of the image being built (parent stage, base image
      env from ``image_env``, BuildKit's default PATH, this stage's ENV).
    * ``arg_vars``: ARG values in effect (this stage's and inherited ones).
    * ``origin``: for every name in ``values``, ``"env"`` or ``"arg"``: which kind of
      instruction set the value now in effect.
    * ``declared_args``: ARG names declared so far, with or without a value
      (BuildKit does not report these as undefined).
    * ``is_global``: True before the first FROM and for FROM lines.
    """

    values: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    env_vars: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    arg_vars: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    origin: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    declared_args: frozenset = frozenset()
    proxy_vars: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    is_global: bool = False

    def __getitem__(self, key: str) -> str:
        if key in self.values:
            return self.values[key]
        return self.proxy_vars[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.values
        for k in self.proxy_vars:
            if k not in self.values:
                yield k

    def __len__(self) -> int:
        return len(self.values) + sum(1 for k in self.proxy_vars if k not in self.values)

    def __repr__(self) -> str:
        return f"Scope(env_vars={dict(self.env_vars)!r}, arg_vars={dict(self.arg_vars)!r})"


@dataclass(frozen=True)
class ResolvedStage:
    """A stage's base after ARG expansion: an image reference or an earlier stage."""

    index: int
    name: Optional[str]
    base_image: Optional[str]  # expanded reference (raw text when base_unresolved); None for a stage base
    base_stage: Optional[int]  # index of the earlier stage this one is built FROM
    # The base uses a name no global ARG declares (or failed to expand). A declared
    # global ARG without a value expands to "" as in BuildKit and counts as resolved.
    base_unresolved: bool
    platform: Optional[str]  # expanded --platform (or the parent stage's); None: the target platform
    inherited_env: Mapping[str, str]  # ENV handed down by the parent stage
    inherited_args: Mapping[str, str] = field(default_factory=lambda: _EMPTY)  # parent stage's ARG values
    undefined_in_from: tuple[str, ...] = ()  # names in FROM/--platform that no global ARG declares
    base_expansion: Optional[Expansion] = None
    platform_expansion: Optional[Expansion] = None


@dataclass(frozen=True)
class ResolutionError:
    """An expansion BuildKit would fail the build on (kept, so the analysis goes on)."""

    instruction_index: int
    line: int
    message: str


@dataclass(frozen=True)
class Resolution:
    """The variables in effect at each instruction, and every stage's base, of one build."""

    escape: str
    stages: tuple[ResolvedStage, ...]
    global_scope: Scope  # what FROM lines see: predefined platform args + global ARGs
    scopes: Mapping[int, Scope]  # instruction index -> variables in effect before it
    expansions: Mapping[int, tuple[Expansion, ...]]  # ARG defaults, ENV keys/values, FROM base/--platform
    undefined: Mapping[int, tuple[str, ...]]  # ARG/ENV in stages: names BuildKit reports as UndefinedVar
    unused_build_args: tuple[str, ...]
    undefined_in_from: tuple[tuple[int, str], ...]  # (stage index, name)
    errors: tuple[ResolutionError, ...]
    final_scopes: tuple[Scope, ...] = ()  # per stage: the variables after its last instruction

    def env_before(self, instruction: Union[Instruction, int]) -> Scope:
        """Variables in effect before ``instruction`` (an Instruction or its index)."""
        index = instruction if isinstance(instruction, int) else instruction.index
        return self.scopes.get(index, self.global_scope)

    def expand_in(self, instruction: Union[Instruction, int], word: str) -> Expansion:
        """Expand ``word`` with the variables in effect before ``instruction``."""
        return expand(word, self.env_before(instruction).values, self.escape)

    def undefined_vars(self, instruction: Union[Instruction, int], word: str) -> tuple[str, ...]:
        """Names in ``word`` BuildKit reports as UndefinedVar at ``instruction``.

        Unset names minus the ARGs declared so far (declared without a value still
        counts as defined) and the SBOM args BuildKit reads itself.
        """
        scope = self.env_before(instruction)
        exp = expand(word, scope.values, self.escape)
        return tuple(n for n in exp.undefined if n not in scope.declared_args and n not in _NON_ENV_ARGS)

    def stage(self, index: int) -> ResolvedStage:
        return self.stages[index]

    def env_after(self, stage: int) -> Scope:
        """Variables in effect at the end of stage ``stage`` (what a child inherits)."""
        return self.final_scopes[stage]


ImageEnv = Union[
    Mapping[str, Mapping[str, str]],
    Callable[[str, Optional[str]], Optional[Mapping[str, str]]],
]


class _Budget:
    def __init__(self) -> None:
        self.total = 0
        self.entries = 0

    def charge(self, text: str, line: int = 0) -> None:
        self.total += len(text)
        if self.total > MAX_TOTAL:
            raise ExpansionTooLarge(
                message=f"line {line}: variables expand to more than {MAX_TOTAL:,} characters in all (the analyzer's limit)"
            )

    def scope(self, scope: "Scope", line: int) -> None:
        self.entries += len(scope.values)
        if self.entries > MAX_SCOPE_ENTRIES:
            raise ExpansionTooLarge(
                message=f"line {line}: too many variables: the variables in effect at each instruction add up to more "
                f"than {MAX_SCOPE_ENTRIES:,} (the analyzer's limit)"
            )


@dataclass
class _State:
    """Variables in effect while walking a stage."""

    values: dict[str, str]
    env_vars: dict[str, str]
    arg_vars: dict[str, str]
    origin: dict[str, str]
    declared: set[str]

    def scope(self, proxies: Mapping[str, str]) -> Scope:
        return Scope(
            values=_frozen(self.values),
            env_vars=_frozen(self.env_vars),
            arg_vars=_frozen(self.arg_vars),
            origin=_frozen(self.origin),
            declared_args=frozenset(self.declared),
            proxy_vars=proxies,
        )


def _split_arg(token: str) -> tuple[str, Optional[str]]:
    if "=" in token:
        key, value = token.split("=", 1)
        return key, value
    return token, None


def _pairs(args: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(args[i], args[i + 1] if i + 1 < len(args) else "") for i in range(0, len(args), 2)]


def resolve(
    df: Dockerfile,
    build_args: Optional[Mapping[str, str]] = None,
    platform: str = "linux/amd64",
    *,
    build_platform: Optional[str] = None,
    target: Optional[str] = None,
    image_env: Optional[ImageEnv] = None,
) -> Resolution:
    """Walk ``df`` with BuildKit's ARG/ENV scoping rules.

    ``build_args`` are ``--build-arg`` values; ``platform`` the target platform
    (``build_platform`` defaults to it); ``target`` the stage being built (default:
    the last one; only TARGETSTAGE depends on it). ``image_env`` gives the ENV of an
    external base image, as a mapping keyed by the expanded reference or a callable
    ``(reference, platform) -> env``; without it external images contribute no ENV.

    Expansion errors do not stop the walk: they are listed in ``errors`` and the
    value concerned is left unset. Raises :class:`ExpansionTooLarge` only when the
    file as a whole expands past a sane size.

    Without ``image_env`` the answer depends on the arguments alone, so the checks, the
    lineage and the plan asking the same question of one file share one walk.
    """
    memo = None
    if image_env is None:
        memo = df.__dict__.setdefault("_resolutions", {})
        key = (tuple(sorted((build_args or {}).items())), platform, build_platform, target)
        if key in memo:
            return memo[key]
        result = _resolve(df, build_args, platform, build_platform=build_platform, target=target, image_env=None)
        memo[key] = result
        return result
    return _resolve(df, build_args, platform, build_platform=build_platform, target=target, image_env=image_env)


def _resolve(
    df: Dockerfile,
    build_args: Optional[Mapping[str, str]],
    platform: str,
    *,
    build_platform: Optional[str],
    target: Optional[str],
    image_env: Optional[ImageEnv],
) -> Resolution:
    build_args = dict(build_args or {})
    escape = df.escape
    budget = _Budget()
    errors: list[ResolutionError] = []
    scopes: dict[int, Scope] = {}
    expansions: dict[int, tuple[Expansion, ...]] = {}
    undefined_by_ins: dict[int, tuple[str, ...]] = {}

    def attempt(ins: Instruction, word: str, env: Mapping[str, str]) -> Optional[Expansion]:
        try:
            exp = expand(word, env, escape)
        except ExpansionError as exc:
            errors.append(ResolutionError(ins.index, ins.start_line, exc.message))
            return None
        budget.charge(exp.value, ins.start_line)
        return exp

    # Predefined platform args (BuildKit's defaultArgs); build args override them.
    target_p = parse_platform(platform)
    build_p = parse_platform(build_platform) if build_platform else target_p
    if target is None:
        target = (df.stages[-1].name or "") if df.stages else ""
    predefined = {
        "BUILDPLATFORM": str(build_p),
        "BUILDOS": build_p.os,
        "BUILDOSVERSION": "",
        "BUILDARCH": build_p.arch,
        "BUILDVARIANT": build_p.variant,
        "TARGETPLATFORM": str(target_p),
        "TARGETOS": target_p.os,
        "TARGETOSVERSION": "",
        "TARGETARCH": target_p.arch,
        "TARGETVARIANT": target_p.variant,
        "TARGETSTAGE": target,
    }
    global_values: dict[str, str] = {k: build_args.get(k, v) for k, v in predefined.items()}
    global_declared: set[str] = set()
    declared_anywhere: set[str] = set()
    proxies = _frozen({k: v for k, v in build_args.items() if k.lower() in _PROXY_FOLDED})

    def global_scope() -> Scope:
        frozen = _frozen(global_values)  # read-only: the two views can share one copy
        return Scope(
            values=frozen,
            arg_vars=frozen,
            origin=MappingProxyType(dict.fromkeys(global_values, "arg")),
            declared_args=frozenset(global_declared),
            is_global=True,
        )

    # Global ARGs: each pair is expanded with the pairs before it.
    current = global_scope()
    for ins in df.global_args:
        scopes[ins.index] = current
        budget.scope(current, ins.start_line)
        if ins.keyword != "ARG":
            continue
        exps = []
        for token in ins.args:
            key, default = _split_arg(token)
            if not key:
                errors.append(ResolutionError(ins.index, ins.start_line, _BLANK_ARG))
                continue
            global_declared.add(key)
            declared_anywhere.add(key)
            if key in build_args:
                value: Optional[str] = build_args[key]
            elif default is not None:
                exp = attempt(ins, default, global_values)
                value = exp.value if exp is not None else None
                if exp is not None:
                    exps.append(exp)
            else:
                value = None
            if value is not None:
                global_values[key] = value
        expansions[ins.index] = tuple(exps)
        current = global_scope()
    from_scope = current

    stages: list[ResolvedStage] = []
    finals: list[_State] = []
    final_scopes: list[Scope] = []
    names: dict[str, int] = {}
    undefined_in_from: list[tuple[int, str]] = []

    for st in df.stages:
        fi = st.from_instruction
        scopes[fi.index] = from_scope
        budget.scope(from_scope, fi.start_line)
        base_raw = st.base
        from_exps: list[Expansion] = []
        unknown: dict[str, None] = {}

        base_exp = attempt(fi, base_raw, global_values)
        if base_exp is not None:
            from_exps.append(base_exp)
        platform_raw = st.platform if st.platform is not None else fi.flag("platform")
        platform_exp = None
        if platform_raw is not None:
            platform_exp = attempt(fi, platform_raw, global_values)
            if platform_exp is not None:
                from_exps.append(platform_exp)
        for exp in from_exps:
            for n in exp.undefined:
                if n not in global_declared and n not in global_values:
                    unknown.setdefault(n, None)
        for n in unknown:
            undefined_in_from.append((st.index, n))
        expansions[fi.index] = tuple(from_exps)

        def undeclared(exp: Optional[Expansion]) -> bool:
            return exp is None or any(n not in global_declared for n in exp.missing)

        unresolved = undeclared(base_exp)
        if base_exp is not None and not unresolved and base_exp.value == "":
            message = f"base name ({base_raw}) should not be blank"
            errors.append(ResolutionError(fi.index, fi.start_line, message))
            unresolved = True
        base_value = base_raw if unresolved else base_exp.value  # type: ignore[union-attr]
        base_stage = None if unresolved else names.get(base_value)

        if platform_raw is None:
            stage_platform = None
        elif undeclared(platform_exp):
            stage_platform = platform_raw
        else:
            stage_platform = platform_exp.value

        if base_stage is not None:
            parent = finals[base_stage]
            values = dict(parent.values)
            origin = dict(parent.origin)
            for k, v in parent.env_vars.items():
                values[k] = v
                origin[k] = "env"
            state = _State(
                values=values,
                env_vars=dict(parent.env_vars),
                arg_vars=dict(parent.arg_vars),
                origin=origin,
                declared=set(parent.declared),
            )
            if stage_platform is None:
                stage_platform = stages[base_stage].platform
            inherited_env = _frozen(parent.env_vars)
            inherited_args = _frozen(parent.arg_vars)
        else:
            env: dict[str, str] = {}
            if image_env is not None and not unresolved:
                if callable(image_env):
                    found = image_env(base_value, stage_platform)
                else:
                    found = image_env.get(base_value)
                env.update(found or {})
            os_name = _platform_os(stage_platform) or target_p.os
            if "PATH" not in env and os_name != "windows":
                env["PATH"] = BUILDKIT_DEFAULT_PATH
            state = _State(
                values=dict(env),
                env_vars=env,
                arg_vars={},
                origin={k: "env" for k in env},
                declared=set(),
            )
            inherited_env = _EMPTY
            inherited_args = _EMPTY

        stages.append(
            ResolvedStage(
                index=st.index,
                name=st.name,
                base_image=None if base_stage is not None else base_value,
                base_stage=base_stage,
                base_unresolved=unresolved,
                platform=stage_platform,
                inherited_env=inherited_env,
                inherited_args=inherited_args,
                undefined_in_from=tuple(unknown),
                base_expansion=base_exp,
                platform_expansion=platform_exp,
            )
        )

        current = state.scope(proxies)
        for ins in st.instructions:
            scopes[ins.index] = current
            budget.scope(current, ins.start_line)
            if ins.keyword == "ARG":
                exps = []
                reported: dict[str, None] = {}
                for token in ins.args:
                    key, default = _split_arg(token)
                    if not key:
                        errors.append(ResolutionError(ins.index, ins.start_line, _BLANK_ARG))
                        continue
                    value = None
                    if key in build_args:
                        value = build_args[key]
                    elif default is not None:
                        exp = attempt(ins, default, state.values)
                        if exp is not None:
                            exps.append(exp)
                            value = exp.value
                            for n in exp.undefined:
                                if n not in state.declared and n not in _NON_ENV_ARGS:
                                    reported.setdefault(n, None)
                    elif key in global_values:
                        value = global_values[key]
                    state.declared.add(key)
                    declared_anywhere.add(key)
                    if value is not None:
                        state.arg_vars[key] = value
                        if key not in _NON_ENV_ARGS:
                            state.values[key] = value
                            state.origin[key] = "arg"
                expansions[ins.index] = tuple(exps)
                undefined_by_ins[ins.index] = tuple(reported)
                current = state.scope(proxies)
            elif ins.keyword == "ENV":
                exps = []
                reported = {}
                updates: list[tuple[str, str]] = []
                for key_raw, value_raw in _pairs(ins.args):
                    key_exp = attempt(ins, key_raw, state.values)
                    value_exp = attempt(ins, value_raw, state.values)
                    for exp in (key_exp, value_exp):
                        if exp is not None:
                            exps.append(exp)
                            for n in exp.undefined:
                                if n not in state.declared and n not in _NON_ENV_ARGS:
                                    reported.setdefault(n, None)
                    if key_exp is not None and value_exp is not None and key_exp.value:
                        updates.append((key_exp.value, value_exp.value))
                for key, value in updates:
                    state.values[key] = value
                    state.env_vars[key] = value
                    state.origin[key] = "env"
                expansions[ins.index] = tuple(exps)
                undefined_by_ins[ins.index] = tuple(reported)
                current = state.scope(proxies)
        finals.append(state)
        final_scopes.append(current)
        if st.name is not None:
            names[st.name] = st.index

    unused = tuple(sorted(k for k in build_args if k not in declared_anywhere and not is_predefined_arg(k)))

    return Resolution(
        escape=escape,
        stages=tuple(stages),
        global_scope=from_scope,
        scopes=MappingProxyType(scopes),
        expansions=MappingProxyType(expansions),
        undefined=MappingProxyType(undefined_by_ins),
        unused_build_args=unused,
        undefined_in_from=tuple(undefined_in_from),
        errors=tuple(errors),
        final_scopes=tuple(final_scopes),
    )
