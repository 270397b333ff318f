"""The local Docker engine as a source of images: what ``docker build`` would use.

When a base image is in the local engine, a build takes it from there (without ``--pull``),
so the engine says what the build will really get, without any network: its config
(``GET /images/NAME/json``), its history (``GET /images/NAME/history``) and, for the
exact executables, its layers (``GET /images/NAME/get``, the ``docker save`` stream, read
once: every ``layer.tar`` in it is listed as it passes, never extracted).

The engine is found as the docker CLI finds it: ``DOCKER_HOST`` (``unix://PATH`` or
``tcp://HOST:PORT``; TLS and ssh hosts are not used), else ``/var/run/docker.sock``. No
socket, no engine: nothing is tried. Every request has a total deadline; answers are size
capped; nothing is written anywhere.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Any, Optional
from urllib.parse import quote, urlsplit

# http.client (with the email package it pulls in) is loaded when a request is made: a
# machine without an engine never needs it, and it costs more than linting a small file

DEFAULT_SOCKET = "/var/run/docker.sock"
API = "/v1.41"  # Docker 20.10; later engines accept it
TIMEOUT = 5.0  # seconds: connect and each read of the small answers
MAX_ANSWER = 8 << 20  # bytes of an inspect or history answer
SAVE_SECONDS = 180.0  # the whole ``docker save`` stream of one image


class EngineError(Exception):
    """The engine could not answer (one line)."""


_UNIX_CONNECTION: list = []


def _unix_connection(path: str, timeout: float):
    """An ``http.client.HTTPConnection`` over the unix socket at ``path``."""
    import http.client

    if not _UNIX_CONNECTION:
        class _UnixConnection(http.client.HTTPConnection):
            def __init__(self, path: str, timeout: float):
                super().__init__("localhost", timeout=timeout)
                self._path = path

            def connect(self) -> None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                try:
                    sock.connect(self._path)
                except OSError:
                    sock.close()
                    raise
                self.sock = sock

        _UNIX_CONNECTION.append(_UnixConnection)
    return _UNIX_CONNECTION[0](path, timeout)


def _http_errors() -> tuple:
    import http.client

    return (OSError, http.client.HTTPException)


def engine_address(env: Optional[dict] = None) -> Optional[tuple[str, str]]:
    """``("unix", path)`` or ``("tcp", "host:port")`` of the engine to ask, or None."""
    env = os.environ if env is None else env
    host = (env.get("DOCKER_HOST") or "").strip()
    if not host:
        return ("unix", DEFAULT_SOCKET) if os.path.exists(DEFAULT_SOCKET) else None
    parts = urlsplit(host)
    if parts.scheme == "unix":
        path = parts.path or DEFAULT_SOCKET
        return ("unix", path) if os.path.exists(path) else None
    if parts.scheme == "tcp" and parts.hostname and not (env.get("DOCKER_TLS_VERIFY") or env.get("DOCKER_CERT_PATH")):
        return ("tcp", f"{parts.hostname}:{parts.port or 2375}")
    return None  # ssh://, npipe://, TLS: left to the docker CLI


class Engine:
    """A read-only client of the local engine's image API."""

    def __init__(self, address: tuple[str, str], timeout: float = TIMEOUT):
        self.address = address
        self.timeout = timeout
        self.requests_made = 0

    @classmethod
    def find(cls) -> Optional["Engine"]:
        address = engine_address()
        return cls(address) if address else None

    @property
    def label(self) -> str:
        kind, where = self.address
        return f"docker engine ({where})" if kind == "tcp" else "docker engine"

    def _connection(self, timeout: float):
        import http.client

        kind, where = self.address
        if kind == "unix":
            return _unix_connection(where, timeout)
        host, _, port = where.rpartition(":")
        return http.client.HTTPConnection(host, int(port), timeout=timeout)

    def _open(self, path: str, timeout: Optional[float] = None):
        conn = self._connection(timeout or self.timeout)
        self.requests_made += 1
        try:
            conn.request("GET", API + path, headers={"Host": "docker", "User-Agent": "dockerfile-analyzer"})
            response = conn.getresponse()
        except _http_errors() as exc:
            conn.close()
            raise EngineError(f"{self.label}: {_reason(exc)}") from None
        return conn, response

    def _get_json(self, path: str) -> Optional[Any]:
        deadline = time.monotonic() + self.timeout * 2
        conn, response = self._open(path)
        try:
            if response.status == 404:
                return None
            if response.status != 200:
                raise EngineError(f"{self.label}: GET {path}: HTTP {response.status}")
            chunks, size = [], 0
            while True:
                if time.monotonic() > deadline:
                    raise EngineError(f"{self.label}: GET {path}: timed out")
                chunk = response.read(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_ANSWER:
                    raise EngineError(f"{self.label}: GET {path}: answer larger than {MAX_ANSWER:,} bytes")
                chunks.append(chunk)
        except _http_errors() as exc:
            raise EngineError(f"{self.label}: GET {path}: {_reason(exc)}") from None
        finally:
            conn.close()
        try:
            return json.loads(b"".join(chunks))
        except ValueError:
            raise EngineError(f"{self.label}: GET {path}: not JSON") from None

    def inspect(self, name: str) -> Optional[dict]:
        """The image's inspect object, None when the engine does not have it."""
        data = self._get_json(f"/images/{quote(name, safe='')}/json")
        if data is not None and not isinstance(data, dict):
            raise EngineError(f"{self.label}: unexpected answer for {name}")
        return data

    def history(self, image_id: str) -> list:
        """``[(created_by, empty_layer)]``, oldest first."""
        data = self._get_json(f"/images/{quote(image_id, safe='')}/history")
        if not isinstance(data, list):
            return []
        rows = [row for row in reversed(data) if isinstance(row, dict)]
        return [(str(row.get("CreatedBy") or ""), _size(row) == 0) for row in rows]

    def list_layers(self, image_id: str, count: int) -> list:
        """The listing of each of the image's ``count`` layers, lowest first, from the
        ``docker save`` stream (None for a layer the stream did not give)."""
        import tarfile

        from .layers import LayerListing, list_layer

        deadline = time.monotonic() + SAVE_SECONDS
        conn, response = self._open(f"/images/{quote(image_id, safe='')}/get", timeout=30.0)
        by_member: dict = {}
        order: list = []
        try:
            if response.status != 200:
                raise EngineError(f"{self.label}: saving {image_id[:19]}: HTTP {response.status}")
            with tarfile.open(fileobj=response, mode="r|") as outer:
                for member in outer:
                    if time.monotonic() > deadline:
                        raise EngineError(f"{self.label}: saving {image_id[:19]}: took longer than {SAVE_SECONDS:.0f} s")
                    if member.isfile() and member.name.endswith("layer.tar"):
                        fh = outer.extractfile(member)
                        if fh is not None:
                            by_member[member.name] = list_layer(fh)
                    elif member.isfile() and member.name.startswith("blobs/sha256/") and member.size > 1024:
                        # OCI layout (newer engines): every blob; the layers are the ones that are tars
                        fh = outer.extractfile(member)
                        if fh is not None:
                            listing = list_layer(fh)
                            if listing.complete and listing.compression:
                                by_member[member.name] = listing
                    elif member.isfile() and member.name == "manifest.json" and member.size <= MAX_ANSWER:
                        fh = outer.extractfile(member)
                        try:
                            manifest = json.loads(fh.read() if fh is not None else b"[]")
                            order = list(manifest[0].get("Layers") or [])
                        except (ValueError, TypeError, IndexError, AttributeError):
                            order = []
        except (*_http_errors(), tarfile.TarError) as exc:
            raise EngineError(f"{self.label}: saving {image_id[:19]}: {_reason(exc)}") from None
        finally:
            conn.close()
        listings = [by_member.get(name) for name in order][:count]
        if len(listings) != count:
            return [None] * count
        return [l if isinstance(l, LayerListing) else None for l in listings]


def _size(row: dict) -> int:
    try:
        return int(row.get("Size") or 0)
    except (TypeError, ValueError):
        return 0


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout) or "timed out" in str(exc):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, FileNotFoundError):
        return "no such socket"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return str(exc) or type(exc).__name__
