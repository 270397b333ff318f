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

import _socket
import json
import os
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
                import socket

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

    def _socket(self, timeout: float):
        kind, where = self.address
        if kind == "unix":
            # the interpreter's own socket type: the socket module's enums cost 5 ms to load
            sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(where)
            except BaseException:
                sock.close()
                raise
            return sock
        import socket

        host, _, port = where.rpartition(":")
        return socket.create_connection((host, int(port)), timeout=timeout)

    def _get_json(self, path: str) -> Optional[Any]:
        """One small answer, over a plain HTTP/1.0 exchange: the server closes the
        connection after it and sends it whole, so no HTTP library is needed (loading
        http.client and the email package costs more than a lint)."""
        deadline = time.monotonic() + self.timeout * 2
        self.requests_made += 1
        request = f"GET {API}{path} HTTP/1.0\r\nHost: docker\r\nUser-Agent: dockerfile-analyzer\r\n\r\n".encode("ascii")
        chunks, size = [], 0
        try:
            sock = self._socket(self.timeout)
        except OSError as exc:
            raise EngineError(f"{self.label}: {_reason(exc)}") from None
        try:
            sock.sendall(request)
            while True:
                if time.monotonic() > deadline:
                    raise EngineError(f"{self.label}: GET {path}: timed out")
                chunk = sock.recv(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_ANSWER + 65536:  # the answer and its head
                    raise EngineError(f"{self.label}: GET {path}: answer larger than {MAX_ANSWER:,} bytes")
                chunks.append(chunk)
        except OSError as exc:
            raise EngineError(f"{self.label}: GET {path}: {_reason(exc)}") from None
        finally:
            sock.close()
        status, body = _response(b"".join(chunks))
        if status is None:
            raise EngineError(f"{self.label}: GET {path}: not an HTTP answer")
        if status == 404:
            return None
        if status != 200:
            raise EngineError(f"{self.label}: GET {path}: HTTP {status}")
        if len(body) > MAX_ANSWER:
            raise EngineError(f"{self.label}: GET {path}: answer larger than {MAX_ANSWER:,} bytes")
        try:
            return json.loads(body)
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


def _response(data: bytes) -> tuple[Optional[int], bytes]:
    """(status, body) of a whole HTTP/1.x answer; (None, b"") when it is not one. The body
    is cut at its Content-Length and a chunked one is put together."""
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status_line = lines[0].split(None, 2)
    if not sep or len(status_line) < 2 or not status_line[0].startswith(b"HTTP/1.") or not status_line[1].isdigit():
        return None, b""
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = _unchunked(body)
        if body is None:
            return None, b""
    elif headers.get(b"content-length", b"").isdigit():
        body = body[: int(headers[b"content-length"])]
    return int(status_line[1]), body


def _unchunked(body: bytes) -> Optional[bytes]:
    parts, at = [], 0
    while True:
        end = body.find(b"\r\n", at)
        if end < 0:
            return None
        size_text = body[at:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return None
        if size == 0:
            return b"".join(parts)
        start = end + 2
        if start + size > len(body):
            return None
        parts.append(body[start : start + size])
        at = start + size + 2


def _size(row: dict) -> int:
    try:
        return int(row.get("Size") or 0)
    except (TypeError, ValueError):
        return 0


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, FileNotFoundError):
        return "no such socket"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return str(exc) or type(exc).__name__
