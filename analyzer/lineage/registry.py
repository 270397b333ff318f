"""A client for the OCI distribution API: tags to digests, manifests, image configs, blobs.

``Registry(cache_dir).resolve("python:3.12-slim")`` returns a :class:`Resolved` (the digest
the tag points to, the platform manifest's digest, the config and layer descriptors);
``config(resolved)`` returns the image config (``history[]``, ``rootfs.diff_ids``);
``open_blob(repo, digest)`` streams a blob. Errors are :class:`RegistryError`, one line.

* References are normalised by :func:`analyzer.images.parse_ref`; ``docker.io`` is served by
  ``registry-1.docker.io``. Registries on ``localhost``, 127.0.0.0/8 and ``::1`` (and those in
  ``insecure_registries``) are spoken to over plain HTTP, every other one over HTTPS.
* Tags are resolved with HEAD (``Docker-Content-Digest``), which Docker Hub does not count
  against its pull limit. Manifests, configs and blobs are then fetched by digest and their
  sha256 verified; a mismatch is an error and nothing is cached.
* An index (OCI index or Docker manifest list) is narrowed to ``platform`` (``os/arch`` or
  ``os/arch/variant``); attestation entries (platform ``unknown/unknown``) are skipped.
* Authentication: a 401 carries ``WWW-Authenticate`` challenges (several may share one header).
  For ``Bearer`` the realm is asked for a token (``token`` or ``access_token``) with the
  challenge's service and scope, cached per (realm, service, scope) for ``expires_in``
  seconds (60 when absent). For ``Basic``, or to obtain the token, credentials come from the
  Docker config (``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``:
  ``auths.<host>.auth``, base64 of ``user:password``); an ``identitytoken`` there is sent
  as an OAuth2 refresh token (POST to the realm; GET with the password when the realm
  answers 404/405). Credentials go to the registry's own host or to an HTTPS realm only,
  never appear in ``log`` or in errors, and ``Authorization`` is dropped when a redirect
  (blob GETs 307 to a CDN) leaves the registry's scheme, host and port.
* 429 and 503 are retried a bounded number of times, waiting ``Retry-After`` (capped).
* Cache under ``<cache_dir>/registry``: anything addressed by a digest lives forever in
  ``blobs/sha256/<hex>`` (written to a temporary file and renamed; verified again when read,
  refetched when corrupt); tag -> digest answers live in ``tags/`` (written once the
  manifest they name arrived and matched its digest; with a checksum, a damaged one is
  asked again) and are reused online for ``tag_ttl`` seconds. ``offline=True`` sends
  nothing: what is not cached raises ``RegistryError("... not in cache (offline)")``.
  A cache that cannot be written is the process's one cache warning on stderr.
* Limits: connect and read timeouts; every request (headers and body) must be over within
  ``deadline`` seconds (30, or ``ANALYZE_HTTP_DEADLINE``; a watchdog shuts the socket down,
  so a server trickling a byte at a time cannot hold the run), a blob download within
  ``blob_deadline`` (20 times that). Manifests and configs hold at most
  ``max_manifest_bytes``, token answers ``max_token_bytes``.

``requests`` is imported on first network use. A Registry is meant for one thread.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Union
from urllib.parse import urlencode, urljoin, urlsplit

from .. import __version__
from ..images import DEFAULT_API_HOST, DEFAULT_DOMAIN, ImageRef, InvalidReference, parse_ref
from ..cachedir import sha256
from ..model import AnalyzerError
from .fetch import _origin, _retry_after

__all__ = [
    "RegistryError",
    "Registry",
    "Resolved",
    "Descriptor",
    "Challenge",
    "parse_challenges",
    "MEDIA_OCI_INDEX",
    "MEDIA_DOCKER_LIST",
    "MEDIA_OCI_MANIFEST",
    "MEDIA_DOCKER_MANIFEST",
]

MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST})
MANIFEST_TYPES = frozenset({MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST})
ACCEPT = ", ".join([MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST, MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST])

USER_AGENT = f"dockerfile-analyzer/{__version__}"
DEFAULT_TOKEN_LIFETIME = 60
TOKEN_MARGIN = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({429, 503})
CHUNK = 64 * 1024
_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}\Z")


class RegistryError(AnalyzerError):
    """Talking to a registry failed, or what it sent cannot be trusted; one line."""


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor of a manifest or index."""

    digest: str
    size: int
    media_type: str
    platform: Optional[str] = None  # "os/arch[/variant]" for index entries


@dataclass(frozen=True)
class Resolved:
    """A tag resolved to the manifest for one platform."""

    ref: ImageRef
    digest: str  # what the tag points to: an index or a manifest
    manifest_digest: str  # the image manifest for ``platform``
    media_type: str  # of that manifest
    config: Descriptor
    layers: tuple[Descriptor, ...]
    platform: str
    index_digest: Optional[str] = None  # set when ``digest`` is an index

    @property
    def host(self) -> str:
        return self.ref.api_host

    @property
    def repository(self) -> str:
        return self.ref.path

    @property
    def pinned(self) -> str:
        """The reference pinned to what it resolved to: ``name@digest``."""
        return f"{self.ref.name}@{self.digest}"


@dataclass(frozen=True)
class Challenge:
    """One authentication challenge of a ``WWW-Authenticate`` header."""

    scheme: str  # lower case: "bearer", "basic"
    params: Mapping[str, str]  # parameter names in lower case


# -- WWW-Authenticate -----------------------------------------------------------------------

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PARAM_RE = re.compile(rf"\s*({_TOKEN})\s*=\s*({_QUOTED}|{_TOKEN}=*)\s*")
_SCHEME_RE = re.compile(rf"\s*({_TOKEN})(?=\s|,|$)")


def parse_challenges(header: str) -> list[Challenge]:
    """All challenges in a ``WWW-Authenticate`` value (RFC 9110 syntax, quoted commas kept)."""
    challenges: list[Challenge] = []
    pos, n = 0, len(header)
    while pos < n:
        while pos < n and header[pos] in " \t,":
            pos += 1
        match = _SCHEME_RE.match(header, pos) if pos < n else None
        if not match:
            break
        scheme = match.group(1).lower()
        pos = match.end()
        params: dict[str, str] = {}
        if not _PARAM_RE.match(header, pos):
            # a token68 (``Basic dXNlcg==``) or nothing: skip to the next challenge
            comma = header.find(",", pos)
            pos = n if comma == -1 else comma
        while True:
            param = _PARAM_RE.match(header, pos)
            if not param:
                break
            value = param.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params.setdefault(param.group(1).lower(), value)
            pos = param.end()
            if pos < n and header[pos] == "," and _PARAM_RE.match(header, pos + 1):
                pos += 1
                continue
            break
        challenges.append(Challenge(scheme, params))
    return challenges


# -- helpers ----------------------------------------------------------------------------------


def _plain_http_host(host: str) -> bool:
    """Docker speaks plain HTTP to localhost and the loopback network without being told."""
    name = host
    if name.startswith("["):
        name = name[1:name.find("]")] if "]" in name else name[1:]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    if name.lower() == "localhost":
        return True
    try:
        import ipaddress

        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _hex(digest: str) -> str:
    if not _DIGEST_RE.match(digest):
        raise RegistryError(f"unsupported or malformed digest {digest!r} (sha256 expected)")
    return digest[len("sha256:"):]


def _platform_of(entry: Mapping[str, Any]) -> Optional[str]:
    plat = entry.get("platform")
    if not isinstance(plat, dict):
        return None
    text = f"{plat.get('os', '')}/{plat.get('architecture', '')}"
    if plat.get("variant"):
        text += f"/{plat['variant']}"
    return text


def _is_attestation(entry: Mapping[str, Any]) -> bool:
    plat = entry.get("platform")
    if isinstance(plat, dict) and (plat.get("os") == "unknown" or plat.get("architecture") == "unknown"):
        return True
    annotations = entry.get("annotations")
    return isinstance(annotations, dict) and annotations.get("vnd.docker.reference.type") == "attestation-manifest"


def _descriptor(data: Any, what: str) -> Descriptor:
    if not isinstance(data, dict) or not isinstance(data.get("digest"), str):
        raise RegistryError(f"{what}: descriptor without a digest")
    size = data.get("size")
    return Descriptor(
        digest=data["digest"],
        size=size if isinstance(size, int) else -1,
        media_type=str(data.get("mediaType", "")),
        platform=_platform_of(data),
    )


def _load_json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RegistryError(f"{what}: not valid JSON") from None


# -- the client -------------------------------------------------------------------------------


class Registry:
    def __init__(
        self,
        cache_dir: Optional[Path],
        *,
        offline: bool = False,
        platform: str = "linux/amd64",
        docker_config: Optional[Path] = None,
        insecure_registries: Iterable[str] = (),
        timeout: tuple[float, float] = (5, 15),
        deadline: Optional[float] = None,  # None: ANALYZE_HTTP_DEADLINE, else 30 s
        blob_deadline: Optional[float] = None,  # None: 20 times ``deadline``
        max_manifest_bytes: int = 4_000_000,
        max_token_bytes: int = 1_000_000,
        tag_ttl: float = 300,
        retries: int = 3,
        max_retry_after: float = 5,
        max_redirects: int = 5,
    ):
        self.root = Path(cache_dir) / "registry" if cache_dir is not None else None
        self.offline = offline
        parts = platform.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise RegistryError(f"invalid platform {platform!r}: expected os/arch[/variant]")
        self.platform = platform
        if docker_config is None:
            # the docker CLI's own rule: $DOCKER_CONFIG/config.json, else ~/.docker/config.json
            home = os.environ.get("DOCKER_CONFIG")
            docker_config = Path(home) / "config.json" if home else Path.home() / ".docker" / "config.json"
        self.docker_config = Path(docker_config)
        self.insecure_registries = frozenset(h.lower() for h in insecure_registries)
        self.timeout = timeout
        if deadline is None:
            from .fetch import request_deadline

            deadline = request_deadline()
        self.deadline = deadline
        self.blob_deadline = blob_deadline if blob_deadline is not None else 20 * deadline
        self.max_manifest_bytes = max_manifest_bytes
        self.max_token_bytes = max_token_bytes
        self.tag_ttl = tag_ttl
        self.retries = retries
        self.max_retry_after = max_retry_after
        self.max_redirects = max_redirects
        self.requests_made = 0
        self.log: list[str] = []
        self._session: Any = None
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._scope_auth: dict[tuple[str, str], tuple[str, str, str]] = {}
        self._basic_hosts: set[str] = set()
        self._auths: Optional[dict[str, tuple[str, str]]] = None
        self._identities: dict[str, str] = {}  # host -> identitytoken from the docker config
        self._cache_warned = False
        self._pending_tag: Optional[tuple[Path, dict]] = None

    # -- public API ---------------------------------------------------------------------------

    def resolve(self, ref: Union[str, ImageRef]) -> Resolved:
        ref = self._ref(ref)
        self._pending_tag = None
        if ref.digest is not None:
            digest = ref.digest
            _hex(digest)
        else:
            digest = self._tag_digest(ref)
        body, media_type = self._manifest(ref, digest)
        data = _load_json(body, f"manifest {ref.name}@{digest}")
        if not isinstance(data, dict):
            raise RegistryError(f"manifest {ref.name}@{digest}: not a JSON object")
        media_type = str(data.get("mediaType") or media_type or "")
        index_digest = None
        if media_type in INDEX_TYPES or (not media_type and "manifests" in data):
            index_digest = digest
            entry = self._pick_platform(ref, digest, data)
            manifest_digest = entry.digest
            body, child_type = self._manifest(ref, manifest_digest)
            data = _load_json(body, f"manifest {ref.name}@{manifest_digest}")
            if not isinstance(data, dict):
                raise RegistryError(f"manifest {ref.name}@{manifest_digest}: not a JSON object")
            media_type = str(data.get("mediaType") or entry.media_type or child_type or "")
        else:
            manifest_digest = digest
        if media_type not in MANIFEST_TYPES and not (not media_type and "config" in data):
            raise RegistryError(
                f"manifest {ref.name}@{manifest_digest}: unsupported media type {media_type or 'none'!r}"
            )
        what = f"manifest {ref.name}@{manifest_digest}"
        config = _descriptor(data.get("config"), what)
        layers_data = data.get("layers")
        if not isinstance(layers_data, list):
            raise RegistryError(f"{what}: no layers list")
        layers = tuple(_descriptor(layer, what) for layer in layers_data)
        self._remember_tag()
        return Resolved(
            ref=ref,
            digest=digest,
            manifest_digest=manifest_digest,
            media_type=media_type or MEDIA_OCI_MANIFEST,
            config=config,
            layers=layers,
            platform=self.platform,
            index_digest=index_digest,
        )

    def config(self, resolved: Resolved) -> dict:
        digest = resolved.config.digest
        what = f"config {resolved.ref.name}@{digest}"
        body = self._by_digest(resolved.ref, "blobs", digest, what)
        data = _load_json(body, what)
        if not isinstance(data, dict):
            raise RegistryError(f"{what}: not a JSON object")
        return data

    def open_blob(self, repo: Union[str, ImageRef, Resolved], digest: str, *, size: Optional[int] = None) -> "BlobStream":
        """A file-like reading the blob. Cached blobs are verified before they are returned;
        a blob from the network is hashed as it is read and checked at the end of the data
        (``RegistryError`` then). It is stored in the cache only when read to the end and
        verified. Leaving a ``with`` block normally reads what the consumer left and verifies."""
        ref = repo.ref if isinstance(repo, Resolved) else self._ref(repo)
        hex_ = _hex(digest)
        what = f"blob {ref.name}@{digest}"
        path = self._blob_path(hex_)
        if path is not None and path.is_file():
            if self._file_ok(path, hex_):
                self.log.append(f"{what}: from cache")
                return BlobStream(open(path, "rb"), None, hex_, what, None, None)
            self._discard_corrupt(path, what)
        if self.offline:
            raise RegistryError(f"{what}: not in cache (offline)")
        resp = self._request("GET", ref, f"/blobs/{digest}", what, stream=True, deadline=self.blob_deadline)
        length = resp.headers.get("content-length", "")
        if size is not None and size >= 0 and length.isdigit() and int(length) != size:
            _release(resp)
            raise RegistryError(f"{what}: server sends {length} bytes, the descriptor says {size}")
        tmp = self._temp_file(path)
        return BlobStream(resp, resp.raw, hex_, what, tmp, path, expected_size=size, log=self.log)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> "Registry":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- tags and manifests -------------------------------------------------------------------

    def _ref(self, ref: Union[str, ImageRef]) -> ImageRef:
        if isinstance(ref, ImageRef):
            return ref
        try:
            return parse_ref(ref)
        except InvalidReference as exc:
            raise RegistryError(str(exc)) from None

    def _tag_file(self, ref: ImageRef) -> Optional[Path]:
        if self.root is None:
            return None
        key = sha256(f"{ref.api_host}/{ref.path}:{ref.tag}".encode()).hexdigest()
        return self.root / "tags" / f"{key}.json"

    def _tag_digest(self, ref: ImageRef) -> str:
        what = f"{ref.name}:{ref.tag}"
        path = self._tag_file(ref)
        cached = None
        if path is not None:
            from ..cachedir import read_checked

            cached = read_checked(path)  # None when missing or damaged (checksum)
            try:
                if cached is not None:
                    _hex(cached["digest"])
                    float(cached.get("at", 0))
            except (ValueError, KeyError, TypeError, RegistryError):
                cached = None
        if cached is not None and (self.offline or time.time() - cached.get("at", 0) < self.tag_ttl):
            self.log.append(f"tag {what}: {cached['digest']} from cache")
            return cached["digest"]
        if self.offline:
            raise RegistryError(f"tag {what}: not in cache (offline)")
        resp = self._request("HEAD", ref, f"/manifests/{ref.tag}", f"tag {what}", accept=ACCEPT)
        digest = (resp.headers.get("docker-content-digest") or "").strip()
        media_type = (resp.headers.get("content-type") or "").split(";")[0].strip()
        _release(resp)
        if not _DIGEST_RE.match(digest):
            # some registries answer HEAD without the digest: GET it and hash the body
            resp = self._request("GET", ref, f"/manifests/{ref.tag}", f"tag {what}", accept=ACCEPT, stream=True)
            body = self._read_small(resp, f"manifest {what}")
            digest = "sha256:" + sha256(body).hexdigest()
            self._store(_hex(digest), body)
        if path is not None:
            # written by resolve() once the manifest this digest names arrived and matched it
            self._pending_tag = (path, {"digest": digest, "media_type": media_type, "at": time.time()})
        self.log.append(f"tag {what}: {digest}")
        return digest

    def _remember_tag(self) -> None:
        pending, self._pending_tag = self._pending_tag, None
        if pending is not None:
            from ..cachedir import dumps_checked

            self._write_atomic(pending[0], dumps_checked(pending[1]).encode())

    def _manifest(self, ref: ImageRef, digest: str) -> tuple[bytes, str]:
        body = self._by_digest(ref, "manifests", digest, f"manifest {ref.name}@{digest}", accept=ACCEPT)
        return body, ""

    def _pick_platform(self, ref: ImageRef, digest: str, data: dict) -> Descriptor:
        entries = data.get("manifests")
        what = f"index {ref.name}@{digest}"
        if not isinstance(entries, list):
            raise RegistryError(f"{what}: no manifests list")
        want = self.platform.split("/")
        available = []
        candidates = []
        for entry in entries:
            if not isinstance(entry, dict) or _is_attestation(entry):
                continue
            plat = entry.get("platform") or {}
            if not isinstance(plat, dict):
                continue
            available.append(_platform_of(entry) or "?")
            if plat.get("os") != want[0] or plat.get("architecture") != want[1]:
                continue
            variant = plat.get("variant")
            if len(want) == 3 and variant and variant != want[2]:
                continue
            candidates.append((0 if len(want) < 3 or variant == want[2] else 1, len(candidates), entry))
        if not candidates:
            shown = ", ".join(sorted(set(available))) or "none"
            raise RegistryError(f"{what}: no manifest for platform {self.platform} (available: {shown})")
        candidates.sort(key=lambda c: (c[0], c[1]))
        return _descriptor(candidates[0][2], what)

    # -- content addressed fetches -----------------------------------------------------------

    def _by_digest(self, ref: ImageRef, kind: str, digest: str, what: str, accept: Optional[str] = None) -> bytes:
        hex_ = _hex(digest)
        path = self._blob_path(hex_)
        if path is not None and path.is_file():
            try:
                body = path.read_bytes()
            except OSError:
                body = None
            if body is not None and sha256(body).hexdigest() == hex_:
                self.log.append(f"{what}: from cache")
                return body
            self._discard_corrupt(path, what)
        if self.offline:
            raise RegistryError(f"{what}: not in cache (offline)")
        resp = self._request("GET", ref, f"/{kind}/{digest}", what, accept=accept, stream=True)
        body = self._read_small(resp, what)
        actual = sha256(body).hexdigest()
        if actual != hex_:
            raise RegistryError(f"{what}: content does not match its digest (got sha256:{actual})")
        self._store(hex_, body)
        return body

    def _read_small(self, resp: Any, what: str, limit: Optional[int] = None) -> bytes:
        """The whole body of ``resp`` (at most ``limit`` bytes, the manifest cap by default),
        within the request's deadline (counted from when the request was sent)."""
        limit = self.max_manifest_bytes if limit is None else limit
        watch = getattr(resp, "analyzer_watch", None)
        start = getattr(resp, "analyzer_started", None) or time.monotonic()
        url = getattr(resp, "url", None)
        late = f"{what}: {_shown(url) + ' ' if isinstance(url, str) and url else ''}timed out after {self.deadline:g} s (total time limit)"
        try:
            length = resp.headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                raise RegistryError(f"{what}: larger than {limit} bytes")
            chunks = []
            total = 0
            while True:
                if time.monotonic() - start > self.deadline or (watch is not None and watch.fired):
                    raise RegistryError(late)
                try:
                    data = self._read1(resp.raw, min(CHUNK, limit + 1 - total), what)
                except RegistryError:
                    if watch is not None and watch.fired:
                        raise RegistryError(late) from None
                    raise
                if not data:
                    break
                chunks.append(data)
                total += len(data)
                if total > limit:
                    raise RegistryError(f"{what}: larger than {limit} bytes")
            if watch is not None and watch.fired:
                raise RegistryError(late)  # the watchdog cut the body short
            return b"".join(chunks)
        finally:
            _release(resp)

    def _read1(self, raw: Any, amount: int, what: str) -> bytes:
        import requests
        import urllib3.exceptions

        try:
            return raw.read1(amount, decode_content=True)
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
            raise RegistryError(f"{what}: connection failed while reading ({_why(exc)})") from None

    # -- HTTP ------------------------------------------------------------------------------------

    def _base(self, host: str) -> str:
        scheme = "http" if _plain_http_host(host) or host.lower() in self.insecure_registries else "https"
        return f"{scheme}://{host}"

    def _ensure_session(self) -> None:
        if self._session is None:
            import requests

            from .fetch import _transport

            session = requests.Session()
            session.trust_env = False  # no ~/.netrc credentials; proxies are looked up per request
            session.headers["User-Agent"] = USER_AGENT
            adapter = _transport().NetworkAdapter()  # its connections are watched by the request deadline
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._session = session

    def _request(
        self, method: str, ref: ImageRef, tail: str, what: str, *, accept: Optional[str] = None, stream: bool = False,
        deadline: Optional[float] = None,
    ) -> Any:
        """Send one API request with auth, redirects and retries; return a 200 response."""
        host = ref.api_host
        url = f"{self._base(host)}/v2/{ref.path}{tail}"
        headers = {}
        if accept:
            headers["Accept"] = accept
        auth = self._known_auth(host, ref.path)
        challenged = False
        while True:
            if auth:
                headers["Authorization"] = auth
            resp = self._send(method, url, headers, what, stream, deadline)
            if resp.status_code != 401:
                break
            challenge_header = resp.headers.get("www-authenticate", "")
            _release(resp)
            if challenged:
                raise RegistryError(f"{what}: access denied (401 after authenticating)")
            challenged = True
            auth = self._answer(host, ref.path, challenge_header, what)
        status = resp.status_code
        if status == 200:
            return resp
        _release(resp)
        if status == 404:
            raise RegistryError(f"{what}: not found (404)")
        if status == 403:
            raise RegistryError(f"{what}: access denied (403)")
        if status in RETRY_STATUSES:
            raise RegistryError(f"{what}: {status} after {self.retries} retries (rate limited or unavailable)")
        raise RegistryError(f"{what}: HTTP {status} {resp.reason or ''}".rstrip())

    def _send(self, method: str, url: str, headers: dict[str, str], what: str, stream: bool, deadline: Optional[float] = None) -> Any:
        """One request, following redirects (credentials dropped off-origin), retrying 429/503."""
        attempt = 0
        while True:
            resp = self._follow(method, url, headers, what, stream, deadline)
            if resp.status_code not in RETRY_STATUSES or attempt >= self.retries:
                return resp
            wait = _retry_after(resp.headers.get("retry-after"))
            if wait is None:
                wait = 0.5 * (2 ** attempt)
            wait = min(wait, self.max_retry_after)
            self.log.append(f"{what}: {resp.status_code}, retrying in {wait:g} s")
            _release(resp)
            time.sleep(wait)
            attempt += 1

    def _follow(self, method: str, url: str, headers: dict[str, str], what: str, stream: bool, deadline: Optional[float] = None) -> Any:
        origin = _origin(url)
        current = url
        hop_headers = dict(headers)
        for _ in range(self.max_redirects + 1):
            resp = self._raw(method, current, hop_headers, what, stream, deadline)
            if resp.status_code not in REDIRECTS:
                return resp
            location = resp.headers.get("location")
            _release(resp)
            if not location:
                raise RegistryError(f"{what}: redirect without a Location")
            target = urljoin(current, location)
            if urlsplit(target).scheme not in ("http", "https"):
                raise RegistryError(f"{what}: redirect to a non-HTTP URL")
            if _origin(target) != origin:
                hop_headers.pop("Authorization", None)
            if resp.status_code == 303:
                method = "GET" if method != "HEAD" else method
            current = target
        raise RegistryError(f"{what}: more than {self.max_redirects} redirects")

    def _raw(self, method: str, url: str, headers: Mapping[str, str], what: str, stream: bool, deadline: Optional[float] = None,
             data: Optional[Mapping[str, str]] = None) -> Any:
        """One HTTP exchange. A watchdog shuts the socket down ``deadline`` seconds after the
        request was sent (a server trickling its headers or body a byte at a time cannot hold
        the run); whoever reads the body cancels it (:func:`_release`)."""
        import requests
        import urllib3.exceptions

        from .fetch import _Deadline, _local

        self._ensure_session()
        self.requests_made += 1
        limit = self.deadline if deadline is None else deadline
        started = time.monotonic()
        watch = _Deadline(limit)
        _local.watch = watch
        streamed = stream or method == "GET"
        try:
            proxies = requests.utils.get_environ_proxies(url)
            resp = self._session.request(
                method, url, headers=dict(headers), stream=streamed, data=data,
                allow_redirects=False, timeout=self.timeout, proxies=proxies,
            )
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            watch.cancel()
            if watch.fired:
                raise RegistryError(f"{what}: {_shown(url)} timed out after {limit:g} s (total time limit)") from None
            if isinstance(exc, requests.ConnectTimeout):
                raise RegistryError(f"{what}: cannot reach {_shown(url)} (no connection within {self.timeout[0]:g} s)") from None
            if isinstance(exc, requests.Timeout):
                raise RegistryError(f"{what}: {_shown(url)} timed out after {self.timeout[1]:g} s waiting for data") from None
            raise RegistryError(f"{what}: cannot reach {_shown(url)} ({_why(exc)})") from None
        finally:
            _local.watch = None
        if watch.fired:  # the watchdog cut the headers short: what arrived is not an answer
            _release(resp)
            raise RegistryError(f"{what}: {_shown(url)} timed out after {limit:g} s (total time limit)")
        if streamed:
            resp.analyzer_watch = watch
            resp.analyzer_started = started
        else:
            watch.cancel()  # the (empty) body is read: the connection may serve the next request
        self.log.append(f"{method} {_shown(url)}: {resp.status_code}")
        return resp

    # -- authentication ---------------------------------------------------------------------------

    def _known_auth(self, host: str, repo: str) -> Optional[str]:
        key = self._scope_auth.get((host, repo))
        if key is not None:
            token = self._tokens.get(key)
            if token is not None and token[1] > time.monotonic():
                return f"Bearer {token[0]}"
        if host in self._basic_hosts:
            creds = self._credentials(host)
            if creds:
                return _basic(creds)
        return None

    def _answer(self, host: str, repo: str, header: str, what: str) -> str:
        challenges = parse_challenges(header)
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        if bearer is not None:
            realm = bearer.params.get("realm")
            if not realm:
                raise RegistryError(f"{what}: the registry asks for a Bearer token but names no realm")
            if urlsplit(realm).scheme not in ("http", "https"):
                raise RegistryError(f"{what}: token realm is not an HTTP URL")
            service = bearer.params.get("service", "")
            scope = bearer.params.get("scope") or f"repository:{repo}:pull"
            key = (realm, service, scope)
            token = self._tokens.get(key)
            if token is None or token[1] <= time.monotonic():
                token = self._fetch_token(host, realm, service, scope, what)
                self._tokens[key] = token
            self._scope_auth[(host, repo)] = key
            return f"Bearer {token[0]}"
        if any(c.scheme == "basic" for c in challenges):
            creds = self._credentials(host)
            if not creds:
                raise RegistryError(f"{what}: authentication required and no credentials for {host} in {self.docker_config}")
            self._basic_hosts.add(host)
            return _basic(creds)
        if not challenges:
            raise RegistryError(f"{what}: 401 without a WWW-Authenticate challenge")
        raise RegistryError(f"{what}: unsupported authentication scheme {challenges[0].scheme!r}")

    def _fetch_token(self, host: str, realm: str, service: str, scope: str, what: str) -> tuple[str, float]:
        query = {k: v for k, v in (("service", service), ("scope", scope)) if v}
        sep = "&" if urlsplit(realm).query else "?"
        url = realm + (sep + urlencode(query) if query else "")
        headers = {}
        creds = self._credentials(host)
        realm_parts = urlsplit(realm)
        # credentials go to a token server over HTTPS, or to the registry's own host
        trusted = realm_parts.scheme == "https" or (realm_parts.hostname or "").lower() == _hostname(host)
        identity = self._identity_token(host) if trusted else None
        resp = None
        if identity:
            # an identity token (docker login with an OAuth2 registry) is a refresh token:
            # POSTed to the realm (the distribution token spec); 404/405: the realm only
            # knows GET, asked below
            form = {"grant_type": "refresh_token", "refresh_token": identity, "service": service,
                    "client_id": "dockerfile-analyzer", "scope": scope}
            resp = self._raw("POST", realm, {"Content-Type": "application/x-www-form-urlencoded"}, f"token for {what}", True, data=form)
            if resp.status_code in (404, 405):
                _release(resp)
                resp = None
        if resp is None:
            if creds and trusted:
                headers["Authorization"] = _basic(creds)
            resp = self._send("GET", url, headers, f"token for {what}", True)
        if resp.status_code != 200:
            _release(resp)
            raise RegistryError(f"{what}: token request to {_shown(realm)} failed with HTTP {resp.status_code}")
        data = _load_json(self._read_small(resp, f"token for {what}", self.max_token_bytes), f"token for {what}")
        if not isinstance(data, dict):
            raise RegistryError(f"{what}: token response is not a JSON object")
        token = data.get("token") or data.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{what}: token response holds no token")
        lifetime = data.get("expires_in")
        if not isinstance(lifetime, (int, float)) or lifetime <= 0:
            lifetime = DEFAULT_TOKEN_LIFETIME
        return token, time.monotonic() + max(1.0, lifetime - TOKEN_MARGIN)

    def _credentials(self, host: str) -> Optional[tuple[str, str]]:
        if self._auths is None:
            self._auths = {}
            try:
                data = json.loads(self.docker_config.read_text())
            except FileNotFoundError:
                data = {}
            except (OSError, ValueError):
                self.log.append(f"docker config {self.docker_config}: unreadable, no credentials used")
                data = {}
            auths = data.get("auths") if isinstance(data, dict) else None
            for key, entry in (auths or {}).items() if isinstance(auths, dict) else ():
                creds = _decode_auth(entry)
                if creds:
                    self._auths[_config_host(key)] = creds
                identity = entry.get("identitytoken") if isinstance(entry, dict) else None
                if isinstance(identity, str) and identity:
                    self._identities[_config_host(key)] = identity
        return _for_host(self._auths, host)

    def _identity_token(self, host: str) -> Optional[str]:
        self._credentials(host)  # reads the config once
        return _for_host(self._identities, host)

    # -- disk cache --------------------------------------------------------------------------------

    def _blob_path(self, hex_: str) -> Optional[Path]:
        return self.root / "blobs" / "sha256" / hex_ if self.root is not None else None

    def _file_ok(self, path: Path, hex_: str) -> bool:
        h = sha256()
        try:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        except OSError:
            return False
        return h.hexdigest() == hex_

    def _discard_corrupt(self, path: Path, what: str) -> None:
        self.log.append(f"{what}: cached copy is corrupt, discarded")
        try:
            path.unlink()
        except OSError:
            pass

    def _store(self, hex_: str, body: bytes) -> None:
        path = self._blob_path(hex_)
        if path is not None:
            self._write_atomic(path, body)

    def _temp_file(self, final: Optional[Path]) -> Optional[Any]:
        if final is None or self._cache_warned:
            return None
        import tempfile

        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            return tempfile.NamedTemporaryFile(dir=final.parent, prefix=".tmp-", delete=False)
        except OSError as exc:
            self._cache_warning(exc)
            return None

    def _write_atomic(self, path: Path, body: bytes) -> None:
        from ..cachedir import write_atomic

        if self._cache_warned:
            return  # a write failed already: the cache is read-only or full
        try:
            write_atomic(path, body)
        except OSError as exc:
            self._cache_warning(exc)

    def _cache_warning(self, exc: OSError) -> None:
        if not self._cache_warned:
            from ..cachedir import not_writable, warn

            self._cache_warned = True
            self.log.append(f"registry cache {self.root}: not writable ({exc.strerror or exc}), not caching")
            warn(not_writable(self.root, exc))


class BlobStream(io.RawIOBase):
    """A blob being read; sha256 (and size, when known) checked when the data ends."""

    def __init__(self, owner: Any, raw: Any, hex_: str, what: str, tmp: Any, final: Optional[Path],
                 expected_size: Optional[int] = None, log: Optional[list] = None):
        super().__init__()
        self._owner = owner  # the response or the cached file
        self._raw = raw if raw is not None else owner
        self._network = raw is not None
        self._hash = sha256() if raw is not None else None
        self._hex = hex_
        self._what = what
        self._tmp = tmp
        self._final = final
        self._size = expected_size
        self._read = 0
        self._log = log
        self.verified = raw is None  # a cached blob was verified before it was opened
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._done:
            return 0
        view = memoryview(buffer)
        if not self._network:
            n = self._raw.readinto(view)
            if not n:
                self._done = True
            return n or 0
        try:
            data = self._raw.read(len(view), decode_content=False)
        except Exception as exc:
            self._abort()
            if self._late():
                raise RegistryError(self._late()) from None
            raise RegistryError(f"{self._what}: connection failed while reading ({_why(exc)})") from None
        if not data:
            if self._late():
                self._abort()
                raise RegistryError(self._late())
            self._finish()
            return 0
        view[: len(data)] = data
        self._hash.update(data)
        self._read += len(data)
        if self._tmp is not None:
            try:
                self._tmp.write(data)
            except OSError as exc:
                self._discard_tmp(exc)
        return len(data)

    def _finish(self) -> None:
        self._done = True
        actual = self._hash.hexdigest()
        if actual != self._hex or (self._size is not None and self._size >= 0 and self._read != self._size):
            self._abort()
            if actual != self._hex:
                raise RegistryError(f"{self._what}: content does not match its digest (got sha256:{actual})")
            raise RegistryError(f"{self._what}: {self._read} bytes, the descriptor says {self._size}")
        self.verified = True
        if self._tmp is not None:
            name = self._tmp.name
            try:
                self._tmp.close()
                os.replace(name, self._final)
            except OSError as exc:
                self._discard_tmp(exc)
            self._tmp = None
        if self._log is not None:
            self._log.append(f"{self._what}: {self._read} bytes, verified")
        _release(self._owner)

    def _late(self) -> str:
        """The error when the request's deadline watchdog cut the download, else ""."""
        watch = getattr(self._owner, "analyzer_watch", None)
        if watch is None or not watch.fired:
            return ""
        seconds = max(0.0, watch.end - getattr(self._owner, "analyzer_started", watch.end))
        return f"{self._what}: timed out after {seconds:g} s (total time limit for a blob)"

    def _discard_tmp(self, failure: Optional[OSError] = None) -> None:
        """Drop the partial copy; ``failure``: writing it failed (the cache warning)."""
        if failure is not None and self._final is not None:
            from ..cachedir import not_writable, warn

            if self._log is not None:
                self._log.append(f"{self._what}: not cached ({failure.strerror or failure})")
            warn(not_writable(self._final.parent, failure))
        if self._tmp is not None:
            name = self._tmp.name
            try:
                self._tmp.close()
            except OSError:
                pass
            try:
                os.unlink(name)
            except OSError:
                pass
            self._tmp = None

    def _abort(self) -> None:
        self._done = True
        self._discard_tmp()
        try:
            _release(self._owner)
        except Exception:
            pass

    def drain(self) -> None:
        """Read what is left and verify (raises ``RegistryError`` on a mismatch)."""
        while not self._done:
            if not self.read(CHUNK):
                break

    def close(self) -> None:
        if not self.closed:
            if not self._done:
                self._abort()
            else:
                try:
                    _release(self._owner)
                except Exception:
                    pass
        super().close()

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        try:
            if exc_type is None and not self.closed:
                self.drain()
        finally:
            self.close()


def _for_host(table: Mapping[str, Any], host: str) -> Any:
    """The docker config entry for ``host`` (Docker Hub under any of its names)."""
    wanted = host.lower()
    if wanted in (DEFAULT_API_HOST, DEFAULT_DOMAIN):
        for alias in (DEFAULT_DOMAIN, "index.docker.io", DEFAULT_API_HOST):
            if alias in table:
                return table[alias]
        return None
    return table.get(wanted)


def _basic(creds: tuple[str, str]) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode("ascii")


def _decode_auth(entry: Any) -> Optional[tuple[str, str]]:
    if not isinstance(entry, dict):
        return None
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        import base64

        try:
            text = base64.b64decode(auth, validate=False).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        user, colon, password = text.partition(":")
        return (user, password) if colon and user else None
    user, password = entry.get("username"), entry.get("password")
    if isinstance(user, str) and isinstance(password, str) and user:
        return user, password
    return None


def _config_host(key: str) -> str:
    """``https://index.docker.io/v1/`` -> ``index.docker.io``; ``host:5000`` stays."""
    text = key.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    return text.split("/", 1)[0]


def _hostname(host: str) -> str:
    if host.startswith("["):
        return host[1:host.find("]")].lower()
    return host.partition(":")[0].lower() if host.count(":") == 1 else host.lower()


def _shown(url: str) -> str:
    """The URL without userinfo or query (tokens and credentials stay out of messages)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return f"{parts.scheme}://{netloc}{parts.path}"


def _why(exc: BaseException) -> str:
    """A short reason (e.g. "connection refused"), from the innermost cause."""
    from .fetch import _describe

    text = _describe(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def _release(resp: Any) -> None:
    """Close a response and stop its deadline watchdog."""
    watch = getattr(resp, "analyzer_watch", None)
    if watch is not None:
        watch.cancel()
    resp.close()
