"""Fetching Dockerfiles and other text files: over HTTP(S) with a revalidating cache, or from disk.

``Fetcher.get_text(url_or_path)`` returns a :class:`Fetched` or raises :class:`FetchError`
(one clear line). HTTP goes through ``requests`` with a CacheControl file cache under
``<cache_dir>/http``:

* responses with an ETag or Last-Modified are revalidated with a conditional request
  (304 costs no body); responses with ``max-age``/``Expires`` are reused while fresh;
  responses with neither validators nor freshness are stored too (fresh for
  ``HEURISTIC_FRESHNESS`` seconds, or stale at once when the server said ``no-cache``),
  so that ``offline=True`` can serve anything fetched before. ``no-store`` is honoured.
* ``offline=True`` sends nothing at all; a URL that is not in the cache raises
  :class:`OfflineMiss`. Redirects followed online are remembered so offline lookups of
  the original URL find the target.
* Limits: connect and read timeouts, a deadline per request (30 s, or
  ``ANALYZE_HTTP_DEADLINE`` seconds) enforced by a watchdog that shuts the socket down (a
  server trickling one byte a second fails at the deadline), a body size cap (streamed, never more than ``max_bytes + 1`` bytes read), at most
  ``max_redirects`` redirects and only to http(s), retries with exponential backoff on
  5xx, 429 (``Retry-After`` honoured up to ``max_retry_after`` seconds) and connection
  errors; no retry on timeouts or other 4xx.
* Bodies must be text: no NUL bytes, valid UTF-8, no image/audio/video/font or archive
  content type and, with ``expect="dockerfile"``, not an HTML page. A response is written
  to the cache only after it passed these checks, and the redirects that led to it only
  once the chain ends in such a body (a redirect loop leaves nothing behind).
* ``Authorization``, ``Cookie`` and ``Proxy-Authorization`` headers are dropped when a
  redirect leaves the origin. No password reaches the disk: cache keys and remembered
  redirects are URLs without ``user:password@``, and an entry that varies on a credential
  header keeps its sha256.
* A cache dir that cannot be created degrades to no cache; a read-only one is still read
  but never written. Either way one warning goes to ``log`` and, as the process's one cache
  warning, to stderr (:func:`analyzer.cachedir.warn`). Entries are sealed with their sha256
  and written atomically: a damaged one is a miss, fetched again and replaced.

Local paths and ``file://`` URLs are read from disk with the same size cap and checks.
A Fetcher is meant for one thread.
"""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from .. import __version__
from ..model import AnalyzerError

__all__ = ["FetchError", "OfflineMiss", "Fetched", "Fetcher", "DEFAULT_USER_AGENT"]

DEFAULT_USER_AGENT = f"dockerfile-analyzer/{__version__}"
HEURISTIC_FRESHNESS = 300
DEFAULT_DEADLINE = 30.0
DEADLINE_ENV = "ANALYZE_HTTP_DEADLINE"  # seconds one HTTP request may take in all
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie")
CHUNK = 64 * 1024
_REDIRECT_KEY = "dockerfile-analyzer redirect "
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


# email.utils and socket cost more to import than an offline run of a small file takes:
# they load when an HTTP date is read or written or a request fails


def parsedate_tz(data):
    from email.utils import parsedate_tz as parse

    return parse(data)


def mktime_tz(data):
    from email.utils import mktime_tz as mktime

    return mktime(data)


def formatdate(timeval=None, localtime=False, usegmt=False):
    from email.utils import formatdate as fmt

    return fmt(timeval, localtime, usegmt)


def request_deadline() -> float:
    """The time limit of one HTTP request in all (connect, headers, body), in seconds:
    ``ANALYZE_HTTP_DEADLINE`` when set, else 30."""
    text = os.environ.get(DEADLINE_ENV, "").strip()
    if not text:
        return DEFAULT_DEADLINE
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise AnalyzerError(f"{DEADLINE_ENV}={text!r}: expected a number of seconds (above 0, at most 3600)")
    return value


class FetchError(AnalyzerError):
    """A file could not be fetched or is not usable text; the message is one line."""


class OfflineMiss(FetchError):
    """Offline mode and the URL is not in the cache."""


@dataclass(frozen=True)
class Fetched:
    """A fetched upstream text and where it came from."""

    url: str  # as requested (URL or path)
    text: str
    from_cache: bool  # served from the cache (fresh, revalidated by a 304, or offline)
    status: int  # final HTTP status; 200 for local files
    content_type: Optional[str]
    final_url: str = ""  # after redirects; the path for local files


class _Transient(Exception):
    """A failure worth retrying (connection refused or reset, server went away)."""


class _BrokenCacheEntry(Exception):
    """A cached body could not be read back."""


@dataclass
class _Reply:
    """One HTTP answer, before its body is judged."""

    url: str
    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes
    from_cache: bool
    key: Optional[str] = None
    attempts: int = 1


class Fetcher:
    def __init__(
        self,
        cache_dir: Optional[Path],
        *,
        offline: bool = False,
        connect_timeout: float = 5,
        read_timeout: float = 15,
        deadline: Optional[float] = None,  # None: ANALYZE_HTTP_DEADLINE, else 30 s
        max_bytes: int = 2_000_000,
        max_redirects: int = 5,
        retries: int = 3,
        backoff: float = 0.5,
        max_retry_after: float = 5,
        user_agent: str = DEFAULT_USER_AGENT,
    ):
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.offline = offline
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline if deadline is not None else request_deadline()
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.user_agent = user_agent
        self.requests_made = 0
        self.log: list[str] = []
        self.warnings: list[str] = []
        self._session: Any = None
        self._store: Any = None
        self._controller: Any = None

    # -- public ------------------------------------------------------------------------

    def get_text(self, url_or_path: str, *, expect: str = "dockerfile", headers: Optional[Mapping[str, str]] = None) -> Fetched:
        """The text at a URL or path. ``expect`` is ``"dockerfile"`` (HTML pages refused) or
        ``"text"``. ``headers`` are extra request headers (e.g. ``Authorization``)."""
        if expect not in ("dockerfile", "text"):
            raise ValueError(f"expect must be 'dockerfile' or 'text', not {expect!r}")
        target = str(url_or_path)
        match = _SCHEME.match(target)
        scheme = match.group(1).lower() if match else None
        if scheme in ("http", "https"):
            _check_url(target)
            if self.offline:
                return self._get_offline(target, expect, dict(headers or {}))
            return self._get_online(target, expect, dict(headers or {}))
        if scheme == "file":
            return self._read_local(_file_url_path(target), target, expect)
        if scheme is not None:
            raise FetchError(f"{target}: unsupported URL scheme '{scheme}' (use http, https, file or a path)")
        return self._read_local(target, target, expect)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- local files ---------------------------------------------------------------------

    def _read_local(self, path: str, shown: str, expect: str) -> Fetched:
        try:
            st = os.stat(path)
            if stat.S_ISDIR(st.st_mode):
                raise FetchError(f"{shown}: is a directory")
            if not stat.S_ISREG(st.st_mode):
                raise FetchError(f"{shown}: not a regular file")
            if st.st_size > self.max_bytes:
                raise FetchError(f"{shown}: file larger than {_size(self.max_bytes)}")
            with open(path, "rb") as fh:
                data = fh.read(self.max_bytes + 1)
        except OSError as exc:
            raise FetchError(f"{shown}: {exc.strerror or exc}") from None
        if len(data) > self.max_bytes:
            raise FetchError(f"{shown}: file larger than {_size(self.max_bytes)}")
        text = _text_of(data, None, expect, shown)
        self.log.append(f"read {shown}: {len(data)} bytes")
        return Fetched(url=shown, text=text, from_cache=False, status=200, content_type=None, final_url=path)

    # -- HTTP ----------------------------------------------------------------------------

    def _get_online(self, url: str, expect: str, headers: dict[str, str]) -> Fetched:
        self._ensure_session()
        current = url
        redirects = 0
        # the redirects on the way are stored only once the chain ends in a usable body: a
        # loop or a redirect to a bad page must not stay in the cache (a cached 301 is
        # followed without asking the server again)
        held: list[tuple[str, Any]] = []
        hops: list[tuple[str, str, bool]] = []
        while True:
            reply = self._request(current, headers)
            where = f"GET {_shown(current)}"
            if reply.status in REDIRECT_STATUSES:
                target = self._redirect_target(where, current, reply.headers.get("location"), f"{reply.status} {reply.reason}")
                redirects += 1
                hops.append((current, target, reply.from_cache))
                if redirects > self.max_redirects:
                    for source, _target, cached in hops:
                        if cached:
                            self._forget(source)
                    raise FetchError(f"GET {_shown(url)}: too many redirects (more than {self.max_redirects})")
                self._hold(reply, held)
                if not _same_origin(current, target):
                    headers = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
                self.log.append(f"{where}: {reply.status} {reply.reason}, redirected to {_shown(target)}")
                current = target
                continue
            if reply.status not in (200, 203):
                suffix = f" (after {reply.attempts} attempts)" if reply.attempts > 1 else ""
                raise FetchError(f"{where}: {reply.status} {reply.reason}{suffix}")
            content_type = reply.headers.get("content-type")
            text = _text_of(reply.body, content_type, expect, where)
            for key, entry in held:
                self._controller.pending[key] = entry
                self._controller.commit(key)
            for source, target, _cached in hops:
                self._remember_redirect(source, target)
            self._commit(reply)
            return Fetched(url=url, text=text, from_cache=reply.from_cache, status=reply.status, content_type=content_type, final_url=current)

    def _redirect_target(self, where: str, current: str, location: Optional[str], status: str) -> str:
        if not location:
            raise FetchError(f"{where}: {status} without a Location header")
        try:
            target = urljoin(current, location.strip())
            scheme = urlsplit(target).scheme.lower()
        except ValueError:
            raise FetchError(f"{where}: {status} to an invalid Location: {location.strip()[:200]}") from None
        if scheme not in ("http", "https"):
            raise FetchError(f"{where}: redirect to {_shown(target)} refused (only http and https redirects are followed)")
        _check_url(target, where=f"{where}: redirect to ")
        return target

    def _request(self, url: str, headers: dict[str, str]) -> _Reply:
        """One URL, with retries on transient failures."""
        where = f"GET {_shown(url)}"
        attempt = 0
        repaired = False
        while True:
            try:
                reply = self._attempt(url, headers)
            except _BrokenCacheEntry:
                self._forget(url)
                if repaired:
                    raise FetchError(f"{where}: the cached copy cannot be read") from None
                self._warn(f"cache entry for {_shown(url)} was unreadable; fetching it again")
                repaired = True
                continue
            except _Transient as exc:
                if attempt >= self.retries:
                    suffix = f" (after {attempt + 1} attempts)" if attempt else ""
                    raise FetchError(f"{where}: {exc}{suffix}") from None
                delay = self.backoff * 2**attempt
                attempt += 1
                self.log.append(f"{where}: {exc}; retry {attempt}/{self.retries} in {delay:g} s")
                time.sleep(delay)
                continue
            if reply.status == 304 and not reply.from_cache:
                # A 304 to a conditional request whose cache entry vanished meanwhile.
                self._forget(url)
                if repaired:
                    raise FetchError(f"{where}: 304 Not Modified but nothing is cached")
                repaired = True
                continue
            if (reply.status == 429 or 500 <= reply.status <= 599) and attempt < self.retries:
                waited = _retry_after(reply.headers.get("retry-after"))
                if waited is not None and reply.status in (429, 503):
                    delay = min(waited, self.max_retry_after)
                    why = " (Retry-After)"
                else:
                    delay = self.backoff * 2**attempt
                    why = ""
                attempt += 1
                self.log.append(f"{where}: {reply.status} {reply.reason}; retry {attempt}/{self.retries} in {delay:g} s{why}")
                time.sleep(delay)
                continue
            reply.attempts = attempt + 1
            return reply

    def _attempt(self, url: str, headers: dict[str, str]) -> _Reply:
        import requests
        import urllib3.exceptions

        where = f"GET {_shown(url)}"
        if self._controller is not None:
            self._controller.pending.clear()  # only what this attempt reads may be stored
        watch = _Deadline(self.deadline)
        _local.watch = watch
        sent_before = self.requests_made
        resp = None
        from_cache = False
        try:
            try:
                resp = self._session.get(
                    url,
                    headers=headers,
                    stream=True,
                    allow_redirects=False,
                    timeout=(self.connect_timeout, self.read_timeout),
                )
                from_cache = bool(getattr(resp, "from_cache", False))
                status = resp.status_code
                reason = resp.reason or _reason(status)
                body = b""
                if status in (200, 203):
                    body = self._read_body(resp, watch, where)
            except FetchError:
                raise
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
                if from_cache:
                    raise _BrokenCacheEntry() from None
                raise self._classify(exc, watch, url) from None
        finally:
            watch.cancel()
            _local.watch = None
            if resp is not None:
                resp.close()
        sent = self.requests_made > sent_before
        if from_cache and sent:
            self.log.append(f"{where}: 304 Not Modified, {len(body)} bytes from cache")
        elif from_cache:
            self.log.append(f"{where}: fresh in cache, {len(body)} bytes")
        else:
            self.log.append(f"{where}: {status} {reason}, {len(body)} bytes from the network")
        key = self._controller.cache_url(resp.request.url) if self._controller is not None else None
        return _Reply(url=url, status=status, reason=reason, headers=resp.headers, body=body, from_cache=from_cache, key=key)

    def _read_body(self, resp: Any, watch: "_Deadline", where: str) -> bytes:
        length = resp.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise FetchError(f"{where}: body larger than {_size(self.max_bytes)}")
        chunks = []
        total = 0
        while True:
            if watch.expired():
                raise FetchError(f"{where}: timed out after {self.deadline:g} s (total time limit)")
            data = resp.raw.read(min(CHUNK, self.max_bytes + 1 - total), decode_content=True)
            if not data:
                break
            chunks.append(data)
            total += len(data)
            if total > self.max_bytes:
                raise FetchError(f"{where}: body larger than {_size(self.max_bytes)}")
        if watch.expired():
            raise FetchError(f"{where}: timed out after {self.deadline:g} s (total time limit)")
        return b"".join(chunks)

    def _classify(self, exc: BaseException, watch: "_Deadline", url: str) -> Exception:
        import socket

        import requests
        import urllib3.exceptions

        where = f"GET {_shown(url)}"
        if watch.fired:
            return FetchError(f"{where}: timed out after {self.deadline:g} s (total time limit)")
        connect_timeout = isinstance(exc, urllib3.exceptions.ConnectTimeoutError) and not isinstance(exc, urllib3.exceptions.NewConnectionError)
        if connect_timeout or isinstance(exc, requests.ConnectTimeout):
            return FetchError(f"{where}: could not connect within {self.connect_timeout:g} s")
        if isinstance(exc, (requests.ReadTimeout, urllib3.exceptions.ReadTimeoutError, socket.timeout)):
            return FetchError(f"{where}: timed out after {self.read_timeout:g} s waiting for data")
        if isinstance(exc, requests.exceptions.SSLError):
            return FetchError(f"{where}: TLS error: {_describe(exc)}")
        if isinstance(exc, (requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError)):
            return FetchError(f"{where}: cannot decode the compressed body")
        if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema, requests.exceptions.InvalidHeader, ValueError)) and not isinstance(exc, requests.ConnectionError):
            return FetchError(f"{where}: invalid request: {exc}")
        if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError, urllib3.exceptions.HTTPError, OSError)):
            described = _describe(exc, urlsplit(url).hostname)
            if described.startswith("cannot resolve host"):
                # no DNS answer: a machine without network; retrying only costs time
                return FetchError(f"{where}: {described}")
            return _Transient(described)
        return FetchError(f"{where}: {_describe(exc)}")

    # -- offline -------------------------------------------------------------------------

    def _get_offline(self, url: str, expect: str, headers: dict[str, str]) -> Fetched:
        if self.cache_dir is None or not (self.cache_dir / "http").is_dir():
            self.log.append(f"offline: {_shown(url)}: no cache")
            raise OfflineMiss(f"GET {_shown(url)}: not in the cache (offline mode)")
        if _surely_uncached(self.cache_dir / "http", url):
            # no entry under the URL's key: a miss known without loading the HTTP stack
            self.log.append(f"offline: {_shown(url)}: not in cache")
            raise OfflineMiss(f"GET {_shown(url)}: not in the cache (offline mode)")
        self._ensure_session()
        current = url
        redirects = 0
        while True:
            where = f"GET {_shown(current)}"
            entry = self._load_cached(current, headers)
            target = None
            if entry is not None and entry.status in PERMANENT_REDIRECTS:
                target = entry.headers.get("location")
            elif entry is not None:
                try:
                    body = entry.read(self.max_bytes + 1, decode_content=True)
                except Exception:
                    raise OfflineMiss(f"{where}: the cached copy cannot be read (offline mode)") from None
                if len(body) > self.max_bytes:
                    raise FetchError(f"{where}: body larger than {_size(self.max_bytes)}")
                content_type = entry.headers.get("content-type")
                text = _text_of(body, content_type, expect, where)
                self.log.append(f"offline: {_shown(current)}: {len(body)} bytes from cache")
                return Fetched(url=url, text=text, from_cache=True, status=entry.status, content_type=content_type, final_url=current)
            else:
                target = self._remembered_redirect(current)
                if target is None:
                    self.log.append(f"offline: {_shown(current)}: not in cache")
                    raise OfflineMiss(f"{where}: not in the cache (offline mode)")
            if not target:
                raise OfflineMiss(f"{where}: cached redirect has no Location (offline mode)")
            target = urljoin(current, target)
            if urlsplit(target).scheme.lower() not in ("http", "https"):
                raise FetchError(f"{where}: redirect to {_shown(target)} refused (only http and https redirects are followed)")
            redirects += 1
            if redirects > self.max_redirects:
                raise FetchError(f"GET {_shown(url)}: too many redirects (more than {self.max_redirects})")
            self.log.append(f"offline: {_shown(current)}: cached redirect to {_shown(target)}")
            current = target

    def _load_cached(self, url: str, headers: dict[str, str]) -> Any:
        if self._store is None:
            return None
        import requests

        prepared = self._session.prepare_request(requests.Request("GET", url, headers=headers))
        for key in dict.fromkeys((prepared.url, self._controller.cache_url(prepared.url))):
            data = self._store.get(key)
            if data:
                entry = self._controller.serializer.loads(prepared, data)
                if entry is not None:
                    return entry
        return None

    # -- cache bookkeeping ---------------------------------------------------------------

    def _cache_key(self, url: str) -> Optional[str]:
        """The key CacheControl files ``url`` under (requests' normalised form of the URL)."""
        if self._controller is None:
            return None
        from requests.models import PreparedRequest

        try:
            prepared = PreparedRequest()
            prepared.prepare_url(url, None)
            return self._controller.cache_url(prepared.url)
        except Exception:
            return None

    def _commit(self, reply: _Reply) -> None:
        """Store the response held back for ``reply`` (a checked body or a redirect)."""
        if self._controller is not None and reply.key is not None:
            self._controller.commit(reply.key)

    def _hold(self, reply: _Reply, held: list) -> None:
        """Take the response held back for a redirect out of the controller (the next
        attempt clears what is pending) so that it can be stored later."""
        if self._controller is not None and reply.key is not None:
            entry = self._controller.pending.pop(reply.key, None)
            if entry is not None:
                held.append((reply.key, entry))

    def _forget(self, url: str) -> None:
        key = self._cache_key(url)
        if key is not None:
            self._store.remove(key)

    def _remember_redirect(self, source: str, target: str) -> None:
        key = self._cache_key(source)
        target = _without_userinfo(target)  # a same-origin redirect carries the URL's password
        if key is not None and self._remembered_redirect(source) != target:
            import json

            self._store.set(_REDIRECT_KEY + key, json.dumps({"location": target}).encode())

    def _remembered_redirect(self, url: str) -> Optional[str]:
        key = self._cache_key(url)
        if key is None:
            return None
        data = self._store.get(_REDIRECT_KEY + key)
        if not data:
            return None
        try:
            import json

            location = json.loads(data.decode("utf-8"))["location"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None
        return location if isinstance(location, str) else None

    def _warn(self, message: str, stderr: bool = False) -> None:
        """Note a problem; ``stderr=True`` (the cache cannot be written) also prints it, as
        the one cache warning of the process (analyzer.cachedir.warn)."""
        self.warnings.append(message)
        self.log.append(f"warning: {message}")
        if stderr:
            from ..cachedir import warn

            warn(message)

    # -- setup ---------------------------------------------------------------------------

    def _ensure_session(self) -> None:
        if self._session is not None:
            return
        import requests

        parts = _transport()
        session = requests.Session()
        session.headers["User-Agent"] = self.user_agent
        store = self._open_store()
        if store is not None:
            adapter = parts.CachingAdapter(
                cache=store,
                controller_class=parts.Controller,
                serializer=parts.Serializer(),
                heuristic=parts.Heuristic(),
            )
            self._store = store
            self._controller = adapter.controller
        else:
            adapter = parts.NetworkAdapter()
        adapter.on_send = self._count
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session

    def _count(self, request: Any) -> None:
        self.requests_made += 1

    def _open_store(self) -> Any:
        if self.cache_dir is None:
            return None
        directory = self.cache_dir / "http"
        writable = True
        if self.offline:
            if not directory.is_dir():
                return None
            writable = False
        else:
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self._warn(f"cache dir {self.cache_dir} is unusable ({exc.strerror or exc}); continuing without a cache", stderr=True)
                return None
            try:
                import tempfile

                fd, probe = tempfile.mkstemp(dir=directory, prefix=".tmp-probe-")
                os.close(fd)
                os.unlink(probe)
            except OSError as exc:
                if not os.access(directory, os.R_OK | os.X_OK):
                    self._warn(f"cache dir {directory} is unusable ({exc.strerror or exc}); continuing without a cache", stderr=True)
                    return None
                self._warn(f"cache dir {directory} is read-only ({exc.strerror or exc}); cached files are used but nothing new is stored", stderr=True)
                writable = False
        return _transport().Store(directory, writable, self._warn)


# -- the requests / CacheControl parts, built on first use (requests is imported lazily) --

_local = threading.local()
_PARTS: Any = None


_PLAIN_URL = re.compile(r"https?://[a-z0-9.\-]+(:[0-9]+)?/[A-Za-z0-9._~/\-]*")


def _surely_uncached(directory: Path, url: str) -> bool:
    """True when ``url`` is in the plain form requests and CacheControl leave unchanged and
    the store holds neither an entry nor a remembered redirect for it."""
    if not _PLAIN_URL.fullmatch(url):
        return False
    import hashlib

    for key in (url, _REDIRECT_KEY + url):
        hashed = hashlib.sha224(key.encode()).hexdigest()
        if (directory.joinpath(*hashed[:5]) / hashed).exists():
            return False
    return True


def _transport() -> Any:
    global _PARTS
    if _PARTS is not None:
        return _PARTS

    import types
    import weakref
    from functools import partial

    from cachecontrol import CacheControlAdapter
    from cachecontrol.cache import BaseCache
    from cachecontrol.caches.file_cache import FileCache
    from cachecontrol.controller import CacheController
    from cachecontrol.heuristics import BaseHeuristic
    from cachecontrol.serialize import Serializer
    from filelock import FileLock
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class WatchedHTTPConnection(HTTPConnection):
        def getresponse(self, *args: Any, **kwargs: Any) -> Any:
            _watch_socket(self.sock)
            return super().getresponse(*args, **kwargs)

    class WatchedHTTPSConnection(HTTPSConnection):
        def getresponse(self, *args: Any, **kwargs: Any) -> Any:
            _watch_socket(self.sock)
            return super().getresponse(*args, **kwargs)

    class WatchedHTTPPool(HTTPConnectionPool):
        ConnectionCls = WatchedHTTPConnection

    class WatchedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = WatchedHTTPSConnection

    pools = {"http": WatchedHTTPPool, "https": WatchedHTTPSPool}

    class NetworkAdapter(HTTPAdapter):
        """Counts what reaches the network; sockets are watched by the request deadline."""

        on_send = None

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            if self.on_send is not None:
                self.on_send(request)
            return super().send(request, *args, **kwargs)

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = dict(pools)

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if not proxy.lower().startswith("socks"):
                manager.pool_classes_by_scheme = dict(pools)
            return manager

    class CachingAdapter(CacheControlAdapter, NetworkAdapter):
        pass

    class Store(BaseCache):
        """FileCache's layout, never raising, writing only when allowed, and ignoring the
        purges CacheControl makes while looking an entry up (stale entries stay for offline
        use and are replaced when a fresh response is stored). Entries are sealed with
        their sha256 and written atomically (analyzer.cachedir): a damaged one is a miss."""

        def __init__(self, directory: Path, writable: bool, warn: Any):
            self.files = FileCache(str(directory), lock_class=partial(FileLock, timeout=10))
            self.directory = directory
            self.writable = writable
            self.warn = warn
            self.keep = False

        def get(self, key: str) -> Optional[bytes]:
            from ..cachedir import unseal

            try:
                return unseal(self.files.get(key))
            except OSError:
                return None

        def set(self, key: str, value: bytes, expires: Any = None) -> None:
            from ..cachedir import seal, write_atomic

            if not self.writable:
                return
            try:
                write_atomic(self.files._fn(key), seal(value), dir_mode=0o700)
            except OSError as exc:
                self.writable = False
                self.warn(f"cannot write to the cache dir {self.directory} ({exc.strerror or exc}); nothing more is stored", True)

        def delete(self, key: str) -> None:
            if not self.keep:
                self.remove(key)

        def remove(self, key: str) -> None:
            if not self.writable:
                return
            try:
                self.files.delete(key)
            except OSError:
                pass

    class SafeSerializer(Serializer):
        """A damaged entry reads as no entry. Credentials never reach the disk: when a
        response varies on ``Authorization`` or ``Cookie`` (raw.githubusercontent.com does),
        the entry keeps a sha256 of the request's value, not the value."""

        def dumps(self, request: Any, response: Any, body: Any = None) -> bytes:
            return super().dumps(_masked(request), response, body)

        def prepare_response(self, request: Any, cached: Any, body_file: Any = None) -> Any:
            return super().prepare_response(_masked(request), cached, body_file)

        def loads(self, request: Any, data: bytes, body_file: Any = None) -> Any:
            try:
                entry = super().loads(request, data, body_file)
            except Exception:
                return None
            if entry is not None and "date" in entry.headers and parsedate_tz(entry.headers["date"]) is None:
                return None  # CacheController cannot judge the age of such an entry
            return entry

    class Controller(CacheController):
        """Holds each response back until the fetcher has checked its body: only
        ``commit`` writes it to the cache."""

        def __init__(self, cache: Any = None, cache_etags: bool = True, serializer: Any = None, status_codes: Any = None):
            super().__init__(cache, cache_etags=cache_etags, serializer=serializer or SafeSerializer(), status_codes=status_codes or (200, 203, 301, 308))
            self.pending: dict[str, tuple] = {}

        @classmethod
        def cache_url(cls, uri: str) -> str:
            return super().cache_url(_without_userinfo(uri))  # no password in a cache key

        def cached_request(self, request: Any) -> Any:
            self.cache.keep = True
            try:
                return super().cached_request(request)
            finally:
                self.cache.keep = False

        def cache_response(self, request: Any, response_or_ref: Any, body: Any = None, status_codes: Any = None) -> None:
            response = response_or_ref() if isinstance(response_or_ref, weakref.ReferenceType) else response_or_ref
            if response is None:
                return
            if body is None and response.status in PERMANENT_REDIRECTS:
                body = b""
            self.pending[self.cache_url(request.url)] = (request, response, None if body is None else bytes(body), status_codes)

        def commit(self, key: str) -> None:
            held = self.pending.pop(key, None)
            if held is not None:
                super().cache_response(*held)

        def discard(self, key: str) -> None:
            self.pending.pop(key, None)

    class Heuristic(BaseHeuristic):
        """Make every storable 200 storable: a valid Date, and an Expires when the server
        gave neither an ETag nor freshness (stale at once when it asked to revalidate)."""

        def update_headers(self, response: Any) -> dict[str, str]:
            if response.status not in (200, 203, 304):
                return {}
            headers = response.headers
            directives = _cache_directives(headers.get("cache-control", ""))
            if "no-store" in directives:
                return {}
            new: dict[str, str] = {}
            parsed = parsedate_tz(headers.get("date") or "")
            if parsed is None:
                date = time.time()
                new["date"] = formatdate(date, usegmt=True)
            else:
                date = mktime_tz(parsed)
            if "etag" in headers or "expires" in headers:
                return new
            max_age = directives.get("max-age")
            if max_age is not None and max_age.isdigit() and int(max_age) > 0:
                return new
            if "max-age" in directives or "no-cache" in directives or "must-revalidate" in directives:
                new["expires"] = formatdate(date, usegmt=True)
            else:
                new["expires"] = formatdate(date + HEURISTIC_FRESHNESS, usegmt=True)
            return new

        def warning(self, response: Any) -> Optional[str]:
            return None

    _PARTS = types.SimpleNamespace(
        NetworkAdapter=NetworkAdapter,
        CachingAdapter=CachingAdapter,
        Store=Store,
        Serializer=SafeSerializer,
        Controller=Controller,
        Heuristic=Heuristic,
    )
    return _PARTS


class _Deadline:
    """Shuts down the request's socket when the time is up, so that no read blocks past it."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds
        self.fired = False
        self._sockets: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def attach(self, sock: Any) -> None:
        with self._lock:
            if not self.fired:
                self._sockets.append(sock)
                return
        _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def expired(self) -> bool:
        return self.fired or time.monotonic() >= self.end

    def cancel(self) -> None:
        self._timer.cancel()


def _watch_socket(sock: Any) -> None:
    watch = getattr(_local, "watch", None)
    if watch is not None and sock is not None:
        watch.attach(sock)


def _shutdown(sock: Any) -> None:
    import socket

    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, TypeError):
        pass


# -- helpers ---------------------------------------------------------------------------------


def _text_of(body: bytes, content_type: Optional[str], expect: str, where: str) -> str:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if expect == "dockerfile" and mime in ("text/html", "application/xhtml+xml"):
        raise FetchError(f"{where}: not a Dockerfile (HTML page)")
    if mime.partition("/")[0] in _BINARY_TYPES or mime in _BINARY_TYPES:
        # application/octet-stream is allowed: it is what servers send for a file named
        # Dockerfile (no extension); the NUL and UTF-8 checks judge such a body
        what = "a Dockerfile" if expect == "dockerfile" else "text"
        raise FetchError(f"{where}: not {what} (content type {mime})")
    nul = body.find(b"\x00")
    if nul >= 0:
        raise FetchError(f"{where}: binary content, not text (NUL byte at offset {nul})")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FetchError(f"{where}: not UTF-8 text (invalid byte at offset {exc.start})") from None
    if expect == "dockerfile":
        head = text[:1024].lstrip("\ufeff \t\r\n").lower()
        if head.startswith("<!doctype html") or head.startswith("<html"):
            raise FetchError(f"{where}: not a Dockerfile (HTML page)")
    return text


# media types whose bodies are never a Dockerfile or a manifest text (a top-level type, or a full type)
_BINARY_TYPES = frozenset({
    "image", "audio", "video", "font", "application/pdf", "application/zip", "application/gzip",
    "application/x-gzip", "application/x-tar", "application/x-bzip2", "application/x-xz",
    "application/zstd", "application/x-7z-compressed", "application/java-archive", "application/wasm",
})


def _file_url_path(url: str) -> str:
    from urllib.request import url2pathname

    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise FetchError(f"{url}: file URL on another host is not supported")
    return url2pathname(unquote(parts.path))


def _check_url(url: str, where: str = "") -> None:
    """FetchError unless ``url`` is an http(s) URL that names a host (and a valid port)."""
    try:
        parts = urlsplit(url)
        parts.port
    except ValueError as exc:
        raise FetchError(f"{where}{_shown(url)}: invalid URL ({exc})") from None
    if not parts.hostname:
        raise FetchError(f"{where}{_shown(url)}: invalid URL (no host)")


def _without_userinfo(url: str) -> str:
    """``url`` without ``user:password@``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, parts.query, parts.fragment))


def _masked(request: Any) -> Any:
    """A stand-in for ``request`` (its headers only) with credential headers replaced by
    their sha256."""
    import hashlib
    import types

    from requests.structures import CaseInsensitiveDict

    headers = CaseInsensitiveDict(getattr(request, "headers", None) or {})
    for name in CREDENTIAL_HEADERS:
        value = headers.get(name)
        if value is not None:
            headers[name] = "sha256:" + hashlib.sha256(str(value).encode("utf-8", "surrogateescape")).hexdigest()
    return types.SimpleNamespace(headers=headers)


def _shown(url: str) -> str:
    """The URL without a password in it: ``user:***@``, and ``***`` for the value of a
    query parameter named like a credential (``?private_token=``, ``&sig=``, ...)."""
    try:
        parts = urlsplit(url)
        password = parts.password
        netloc = parts.netloc
        if password is not None:
            netloc = f"{parts.username or ''}:***@{netloc.rpartition('@')[2]}"
    except ValueError:
        return url if "@" not in url else "<URL with credentials>"
    query = _QUERY_SECRET.sub(_mask_query_value, parts.query) if parts.query else parts.query
    if password is None and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_QUERY_SECRET = re.compile(r"(?:(?<=^)|(?<=[&;]))([^=&;]+)=([^&;]*)")
_QUERY_CREDENTIALS = frozenset({"sig", "signature", "code", "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-goog-signature", "x-goog-credential"})


def _mask_query_value(m: "re.Match[str]") -> str:
    from ..report.redact import secret_name

    name = unquote(m.group(1))
    if m.group(2) and (secret_name(name.replace("-", "_")) or name.lower() in _QUERY_CREDENTIALS):
        return f"{m.group(1)}=***"
    return m.group(0)


def _origin(url: str) -> tuple[str, str, Optional[int]]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


def _same_origin(source: str, target: str) -> bool:
    a, b = _origin(source), _origin(target)
    if a == b:
        return True
    # http -> https on the same host and default ports is an upgrade, not a new origin.
    return a[1] == b[1] and a[0] == "http" and a[2] == 80 and b[0] == "https" and b[2] == 443


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    parsed = parsedate_tz(value)
    if parsed is None:
        return None
    return max(0.0, mktime_tz(parsed) - time.time())


def _cache_directives(value: str) -> dict[str, Optional[str]]:
    found: dict[str, Optional[str]] = {}
    for item in value.split(","):
        name, _, arg = item.strip().partition("=")
        if name:
            found[name.strip().lower()] = arg.strip().strip('"') if arg else None
    return found


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _size(n: int) -> str:
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g} MB"
    if n >= 1000 and n % 100 == 0:
        return f"{n / 1000:g} kB"
    return f"{n:,} bytes"


def _describe(exc: BaseException, host: Optional[str] = None) -> str:
    """A short reason for a connection failure, from the innermost cause."""
    import socket

    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    innermost: Optional[BaseException] = None
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return f"cannot resolve host {host}" if host else "cannot resolve host"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, ConnectionResetError) and "RemoteDisconnected" not in type(current).__name__:
            return "connection reset by the server"
        if type(current).__name__ in ("RemoteDisconnected", "IncompleteRead", "BadStatusLine"):
            innermost = current
        for nested in (getattr(current, "reason", None), current.__cause__, current.__context__, *current.args):
            if isinstance(nested, BaseException):
                stack.append(nested)
    if innermost is not None:
        name = type(innermost).__name__
        if name == "RemoteDisconnected":
            return "the server closed the connection without a response"
        if name == "IncompleteRead":
            return "the server closed the connection before the body was complete"
        return "the server sent an invalid response"
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__
