"""The HTTP layer of lineage resolution, against real servers on 127.0.0.1.

pytest-httpserver (``httpserver``) answers well-formed HTTP; ``RawServer`` below writes its
replies by hand for the servers that misbehave at the socket level (silent, trickling,
endless, dropping the connection).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from analyzer.lineage.fetch import Fetched, FetchError, Fetcher, OfflineMiss
from analyzer.model import AnalyzerError
from conftest import skip_unless_ci

DOCKERFILE = "FROM debian:12\nRUN apt-get update\n"


def fetcher(cache_dir, **options) -> Fetcher:
    """A Fetcher with limits small enough for tests."""
    settings = dict(connect_timeout=1, read_timeout=2, deadline=5, retries=2, backoff=0.01, max_retry_after=2)
    settings.update(options)
    return Fetcher(cache_dir, **settings)


def served(httpserver: HTTPServer) -> list:
    """The requests the server received, in order."""
    return [request for request, _ in httpserver.log]


def cache_files(cache_dir: Path) -> dict[str, bytes]:
    root = cache_dir / "http"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.name.endswith(".lock")}


def etag_handler(body: str, etag: str = '"v1"'):
    def handle(request):
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, headers={"ETag": etag, "Content-Type": "text/plain; charset=utf-8"})

    return handle


# -- a server that misbehaves at the socket level ---------------------------------------------


class RawServer:
    def __init__(self, handler, tls=None):
        self.handler = handler
        self.tls = tls
        self.stop = threading.Event()
        self.connections = 0
        self._open: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, path: str = "/Dockerfile") -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            self._open.append(conn)
            threading.Thread(target=self._handle, args=(conn, self.connections), daemon=True).start()

    def _handle(self, conn: socket.socket, number: int) -> None:
        conn.settimeout(5)
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            self.handler(conn, number, self.stop)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        self.stop.set()
        self._listener.close()
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.close()


@pytest.fixture(scope="module")
def loopback_server():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def httpserver(loopback_server):
    """pytest-httpserver's server, bound to 127.0.0.1 and cleared for each test."""
    loopback_server.clear()
    return loopback_server


@pytest.fixture
def raw_server():
    servers: list[RawServer] = []

    def start(handler, tls=None) -> RawServer:
        server = RawServer(handler, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def other_server():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


def silent(conn, number, stop):
    stop.wait(10)


def trickling_body(conn, number, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n")
    while not stop.wait(0.05):
        conn.sendall(b"#")


def trickling_headers(conn, number, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while not stop.wait(0.05):
        conn.sendall(b"a")


def endless_body(conn, number, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
    block = b"RUN true\n" * 8000
    while not stop.is_set():
        conn.sendall(block)


def never_closing(conn, number, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nFROM debian:12\n")
    stop.wait(10)


def drops_first_connection(conn, number, stop):
    if number == 1:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        return
    body = DOCKERFILE.encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))


# -- caching and revalidation -----------------------------------------------------------------


def test_etag_is_revalidated_with_a_conditional_request(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_handler(etag_handler(DOCKERFILE))
    url = httpserver.url_for("/Dockerfile")

    first = fetcher(tmp_path).get_text(url)
    second_run = fetcher(tmp_path)
    second = second_run.get_text(url)

    assert first == Fetched(url, DOCKERFILE, False, 200, "text/plain; charset=utf-8", url)
    assert second.text == DOCKERFILE and second.from_cache and second.status == 200
    assert second_run.requests_made == 1
    requests = served(httpserver)
    assert len(requests) == 2
    assert "If-None-Match" not in requests[0].headers
    assert requests[1].headers["If-None-Match"] == '"v1"'
    assert [response.status_code for _, response in httpserver.log] == [200, 304]
    assert any("304" in line and "from cache" in line for line in second_run.log)


def test_last_modified_is_revalidated_with_if_modified_since(httpserver, tmp_path):
    stamp = "Wed, 01 Jan 2025 00:00:00 GMT"

    def handle(request):
        if request.headers.get("If-Modified-Since") == stamp:
            return Response(status=304)
        return Response(DOCKERFILE, headers={"Last-Modified": stamp, "Cache-Control": "no-cache"})

    httpserver.expect_request("/Dockerfile").respond_with_handler(handle)
    url = httpserver.url_for("/Dockerfile")

    assert not fetcher(tmp_path).get_text(url).from_cache
    second = fetcher(tmp_path).get_text(url)

    assert second.text == DOCKERFILE and second.from_cache
    assert [response.status_code for _, response in httpserver.log] == [200, 304]
    assert served(httpserver)[1].headers["If-Modified-Since"] == stamp


def test_fresh_response_is_reused_without_any_request(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_data(DOCKERFILE, headers={"Cache-Control": "max-age=600", "ETag": '"a"'})
    url = httpserver.url_for("/Dockerfile")
    fetcher(tmp_path).get_text(url)

    second_run = fetcher(tmp_path)
    second = second_run.get_text(url)

    assert second.from_cache and second.text == DOCKERFILE
    assert second_run.requests_made == 0
    assert len(httpserver.log) == 1


def test_response_without_validators_is_stored_for_a_while(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_data(DOCKERFILE, content_type="text/plain")
    url = httpserver.url_for("/Dockerfile")
    fetcher(tmp_path).get_text(url)

    second_run = fetcher(tmp_path)
    assert second_run.get_text(url).from_cache
    assert second_run.requests_made == 0
    assert len(httpserver.log) == 1


def test_response_the_server_says_not_to_reuse_is_refetched_but_kept_for_offline(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_data(DOCKERFILE, headers={"Cache-Control": "no-cache"})
    url = httpserver.url_for("/Dockerfile")
    fetcher(tmp_path).get_text(url)

    assert not fetcher(tmp_path).get_text(url).from_cache
    assert len(httpserver.log) == 2
    offline = fetcher(tmp_path, offline=True)
    assert offline.get_text(url).text == DOCKERFILE
    assert len(httpserver.log) == 2 and offline.requests_made == 0


def test_no_store_is_honoured(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_data(DOCKERFILE, headers={"Cache-Control": "no-store"})
    url = httpserver.url_for("/Dockerfile")
    assert fetcher(tmp_path).get_text(url).text == DOCKERFILE

    with pytest.raises(OfflineMiss):
        fetcher(tmp_path, offline=True).get_text(url)


# -- offline --------------------------------------------------------------------------------


def test_offline_serves_the_cache_and_sends_nothing(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_handler(etag_handler(DOCKERFILE))
    url = httpserver.url_for("/Dockerfile")
    fetcher(tmp_path).get_text(url)
    httpserver.clear_log()

    offline = fetcher(tmp_path, offline=True)
    got = offline.get_text(url)

    assert got.text == DOCKERFILE and got.from_cache
    assert offline.requests_made == 0
    assert httpserver.log == []


def test_offline_miss_sends_nothing(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_data(DOCKERFILE)
    url = httpserver.url_for("/Dockerfile")

    for cache_dir in (tmp_path, None):
        offline = fetcher(cache_dir, offline=True)
        with pytest.raises(OfflineMiss, match=r"^GET http://127\.0\.0\.1:\d+/Dockerfile: not in the cache \(offline mode\)$"):
            offline.get_text(url)
        assert offline.requests_made == 0
    assert httpserver.log == []
    assert issubclass(OfflineMiss, FetchError) and issubclass(FetchError, AnalyzerError)


def test_offline_finds_a_file_reached_through_a_temporary_redirect(httpserver, tmp_path):
    httpserver.expect_request("/raw/main/Dockerfile").respond_with_data("", status=302, headers={"Location": "/blob/Dockerfile"})
    httpserver.expect_request("/blob/Dockerfile").respond_with_handler(etag_handler(DOCKERFILE))
    url = httpserver.url_for("/raw/main/Dockerfile")
    online = fetcher(tmp_path).get_text(url)
    assert online.final_url == httpserver.url_for("/blob/Dockerfile")
    httpserver.clear_log()

    got = fetcher(tmp_path, offline=True).get_text(url)

    assert got.text == DOCKERFILE and got.from_cache
    assert got.final_url == httpserver.url_for("/blob/Dockerfile")
    assert httpserver.log == []


def test_offline_still_reads_local_files(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text(DOCKERFILE)
    assert fetcher(None, offline=True).get_text(str(path)).text == DOCKERFILE


# -- errors and retries ---------------------------------------------------------------------


def test_404_is_not_retried_nor_cached(httpserver, tmp_path):
    httpserver.expect_request("/missing").respond_with_data("no such thing", status=404)
    url = httpserver.url_for("/missing")

    with pytest.raises(FetchError, match=r"^GET http://127\.0\.0\.1:\d+/missing: 404 NOT FOUND$|^GET http://127\.0\.0\.1:\d+/missing: 404 Not Found$"):
        fetcher(tmp_path, retries=3).get_text(url)
    assert len(httpserver.log) == 1
    with pytest.raises(OfflineMiss):
        fetcher(tmp_path, offline=True).get_text(url)


def test_500_is_retried_until_it_succeeds(httpserver, tmp_path):
    httpserver.expect_oneshot_request("/Dockerfile").respond_with_data("oops", status=500)
    httpserver.expect_oneshot_request("/Dockerfile").respond_with_data("oops", status=502)
    httpserver.expect_request("/Dockerfile").respond_with_data(DOCKERFILE)
    client = fetcher(tmp_path, retries=3)

    assert client.get_text(httpserver.url_for("/Dockerfile")).text == DOCKERFILE
    assert [response.status_code for _, response in httpserver.log] == [500, 502, 200]
    assert client.requests_made == 3
    assert sum("retry" in line for line in client.log) == 2


def test_500_that_persists_fails_after_the_retries(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_data("oops", status=503)
    started = time.monotonic()

    with pytest.raises(FetchError, match=r": 503 SERVICE UNAVAILABLE \(after 3 attempts\)$|: 503 Service Unavailable \(after 3 attempts\)$"):
        fetcher(tmp_path, retries=2, backoff=0.05).get_text(httpserver.url_for("/Dockerfile"))
    assert len(httpserver.log) == 3
    assert time.monotonic() - started >= 0.05 + 0.1  # exponential backoff: 0.05 s, then 0.1 s


def test_429_waits_as_long_as_retry_after_says(httpserver, tmp_path):
    httpserver.expect_oneshot_request("/Dockerfile").respond_with_data("slow down", status=429, headers={"Retry-After": "1"})
    httpserver.expect_request("/Dockerfile").respond_with_data(DOCKERFILE)
    started = time.monotonic()

    got = fetcher(tmp_path, backoff=0.01, max_retry_after=5).get_text(httpserver.url_for("/Dockerfile"))

    assert got.text == DOCKERFILE
    assert 0.95 <= time.monotonic() - started < 3
    assert len(httpserver.log) == 2


def test_retry_after_is_capped(httpserver, tmp_path):
    httpserver.expect_oneshot_request("/Dockerfile").respond_with_data("slow down", status=429, headers={"Retry-After": "3600"})
    httpserver.expect_request("/Dockerfile").respond_with_data(DOCKERFILE)
    started = time.monotonic()

    assert fetcher(tmp_path, max_retry_after=0.2).get_text(httpserver.url_for("/Dockerfile")).text == DOCKERFILE
    assert time.monotonic() - started < 2


def test_connection_refused_is_retried_then_reported(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    client = fetcher(tmp_path, retries=2)

    with pytest.raises(FetchError, match=rf"^GET http://127\.0\.0\.1:{port}/Dockerfile: connection refused \(after 3 attempts\)$"):
        client.get_text(f"http://127.0.0.1:{port}/Dockerfile")
    assert client.requests_made == 3


def test_dropped_connection_is_retried(raw_server, tmp_path):
    server = raw_server(drops_first_connection)
    client = fetcher(tmp_path)

    assert client.get_text(server.url()).text == DOCKERFILE
    assert server.connections == 2 and client.requests_made == 2


def test_server_that_never_answers_times_out(raw_server, tmp_path):
    server = raw_server(silent)
    started = time.monotonic()

    with pytest.raises(FetchError, match=r"^GET http://127\.0\.0\.1:\d+/Dockerfile: timed out after 0\.3 s"):
        fetcher(tmp_path, read_timeout=0.3, retries=3).get_text(server.url())
    assert time.monotonic() - started < 2
    assert server.connections == 1  # a timeout is not retried


def test_trickling_body_fails_at_the_deadline(raw_server, tmp_path):
    server = raw_server(trickling_body)
    started = time.monotonic()

    with pytest.raises(FetchError, match=r": timed out after 0\.6 s \(total time limit\)$"):
        fetcher(tmp_path, read_timeout=1, deadline=0.6).get_text(server.url())
    assert 0.5 <= time.monotonic() - started < 1.5
    assert server.connections == 1


def test_trickling_headers_fail_at_the_deadline(raw_server, tmp_path):
    server = raw_server(trickling_headers)
    started = time.monotonic()

    with pytest.raises(FetchError, match=r": timed out after 0\.6 s \(total time limit\)$"):
        fetcher(tmp_path, read_timeout=1, deadline=0.6).get_text(server.url())
    assert time.monotonic() - started < 1.5


def test_body_that_never_ends_is_cut_at_the_size_cap(raw_server, tmp_path):
    server = raw_server(endless_body)

    with pytest.raises(FetchError, match=r": body larger than 50 kB$"):
        fetcher(tmp_path, max_bytes=50_000).get_text(server.url())
    with pytest.raises(OfflineMiss):
        fetcher(tmp_path, offline=True).get_text(server.url())


def test_body_that_stops_without_closing_times_out(raw_server, tmp_path):
    server = raw_server(never_closing)

    with pytest.raises(FetchError, match=r": timed out after 0\.3 s"):
        fetcher(tmp_path, read_timeout=0.3).get_text(server.url())
    with pytest.raises(OfflineMiss):
        fetcher(tmp_path, offline=True).get_text(server.url())


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversize_body_is_refused_and_not_cached(httpserver, tmp_path, chunked):
    body = "RUN true\n" * 200
    if chunked:
        httpserver.expect_request("/Dockerfile").respond_with_handler(lambda request: Response(iter([body[:900], body[900:]]), headers={"ETag": '"big"'}))
    else:
        httpserver.expect_request("/Dockerfile").respond_with_data(body, headers={"ETag": '"big"'})
    url = httpserver.url_for("/Dockerfile")

    with pytest.raises(FetchError, match=r": body larger than 1 kB$"):
        fetcher(tmp_path, max_bytes=1000).get_text(url)
    with pytest.raises(OfflineMiss):
        fetcher(tmp_path, offline=True).get_text(url)
    assert fetcher(tmp_path, max_bytes=10_000).get_text(url).text == body


def test_size_cap_applies_to_the_decompressed_body(httpserver, tmp_path):
    bomb = gzip.compress(b"#" * 2_000_000)
    httpserver.expect_request("/Dockerfile").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})

    with pytest.raises(FetchError, match=r": body larger than 100 kB$"):
        fetcher(tmp_path, max_bytes=100_000).get_text(httpserver.url_for("/Dockerfile"))


# -- redirects --------------------------------------------------------------------------------


def test_redirect_loop_is_cut(httpserver, tmp_path):
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=307, headers={"Location": "/a"})

    with pytest.raises(FetchError, match=r"^GET http://127\.0\.0\.1:\d+/a: too many redirects \(more than 3\)$"):
        fetcher(tmp_path, max_redirects=3).get_text(httpserver.url_for("/a"))
    assert len(httpserver.log) == 4


def test_redirects_within_the_limit_are_followed(httpserver, tmp_path):
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/newer"})
    httpserver.expect_request("/newer").respond_with_data("", status=308, headers={"Location": "/Dockerfile"})
    httpserver.expect_request("/Dockerfile").respond_with_data(DOCKERFILE)

    got = fetcher(tmp_path, max_redirects=2).get_text(httpserver.url_for("/old"))
    assert got.text == DOCKERFILE and got.url == httpserver.url_for("/old")
    assert got.final_url == httpserver.url_for("/Dockerfile")


@pytest.mark.parametrize("how", ["header", "userinfo"])
def test_credentials_stay_with_their_host_on_redirect(httpserver, other_server, tmp_path, how):
    elsewhere = f"http://localhost:{other_server.port}/Dockerfile"
    httpserver.expect_request("/private").respond_with_data("", status=302, headers={"Location": "/moved"})
    httpserver.expect_request("/moved").respond_with_data("", status=302, headers={"Location": elsewhere})
    other_server.expect_request("/Dockerfile").respond_with_data(DOCKERFILE)
    url = httpserver.url_for("/private")
    if how == "header":
        got = fetcher(tmp_path).get_text(url, headers={"Authorization": "Bearer s3cret"})
    else:
        got = fetcher(tmp_path).get_text(url.replace("http://", "http://me:s3cret@"))

    assert got.text == DOCKERFILE
    same_host = served(httpserver)
    assert [r.path for r in same_host] == ["/private", "/moved"]
    assert all(r.headers.get("Authorization") for r in same_host)  # kept on the same origin
    assert [r.headers.get("Authorization") for r in served(other_server)] == [None]


def test_redirect_to_a_file_url_is_refused(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_data("", status=302, headers={"Location": "file:///etc/passwd"})

    with pytest.raises(FetchError, match=r"^GET http://127\.0\.0\.1:\d+/Dockerfile: redirect to file:///etc/passwd refused"):
        fetcher(tmp_path).get_text(httpserver.url_for("/Dockerfile"))


def test_password_is_not_shown_in_errors(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_data("", status=404)
    url = httpserver.url_for("/Dockerfile").replace("http://", "http://me:s3cret@")

    with pytest.raises(FetchError) as caught:
        fetcher(tmp_path).get_text(url)
    assert "s3cret" not in str(caught.value) and "me:***@" in str(caught.value)


# -- what the body must be --------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("<!DOCTYPE html>\n<html><body>Sign in</body></html>", "text/html; charset=utf-8"),
        ("\n  <html><head><title>404</title></head></html>", "text/plain"),
        ("FROM debian:12\n", "text/html"),
    ],
)
def test_html_page_is_refused_where_a_dockerfile_was_expected(httpserver, tmp_path, body, content_type):
    httpserver.expect_request("/Dockerfile").respond_with_data(body, content_type=content_type, headers={"ETag": '"p"'})
    url = httpserver.url_for("/Dockerfile")

    with pytest.raises(FetchError, match=r"^GET http://127\.0\.0\.1:\d+/Dockerfile: not a Dockerfile \(HTML page\)$"):
        fetcher(tmp_path).get_text(url)
    with pytest.raises(OfflineMiss):
        fetcher(tmp_path, offline=True).get_text(url)
    assert fetcher(tmp_path).get_text(url, expect="text").text == body


def test_binary_body_is_refused_and_not_cached(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_data(b"FROM x\n\x00\x01\x02", content_type="application/octet-stream", headers={"ETag": '"b"'})
    url = httpserver.url_for("/Dockerfile")

    with pytest.raises(FetchError, match=r": binary content, not text \(NUL byte at offset 7\)$"):
        fetcher(tmp_path).get_text(url, expect="text")
    with pytest.raises(OfflineMiss):
        fetcher(tmp_path, offline=True).get_text(url, expect="text")


def test_invalid_utf8_is_refused(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_data(b"FROM debian\nLABEL caf\xe9=1\n", content_type="text/plain")

    with pytest.raises(FetchError, match=r": not UTF-8 text \(invalid byte at offset 21\)$"):
        fetcher(tmp_path).get_text(httpserver.url_for("/Dockerfile"))
    with pytest.raises(OfflineMiss):
        fetcher(tmp_path, offline=True).get_text(httpserver.url_for("/Dockerfile"))


def test_user_agent_names_the_analyzer(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_data(DOCKERFILE)
    fetcher(tmp_path).get_text(httpserver.url_for("/Dockerfile"))
    assert served(httpserver)[0].headers["User-Agent"].startswith("dockerfile-analyzer/")


# -- HTTPS ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        skip_unless_ci("openssl is not installed")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_server_context(tls_files, monkeypatch):
    cert, key = tls_files
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    return context


def test_https_is_fetched_and_revalidated(tls_server_context, tmp_path):
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=tls_server_context)
    server.expect_request("/Dockerfile").respond_with_handler(etag_handler(DOCKERFILE))
    server.start()
    try:
        url = server.url_for("/Dockerfile")
        assert url.startswith("https://")
        assert not fetcher(tmp_path).get_text(url).from_cache
        assert fetcher(tmp_path).get_text(url).from_cache
        assert [response.status_code for _, response in server.log] == [200, 304]
    finally:
        server.clear()
        server.stop()


def test_untrusted_certificate_is_refused_without_retry(tls_server_context, tmp_path, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=tls_server_context)
    server.expect_request("/Dockerfile").respond_with_data(DOCKERFILE)
    server.start()
    try:
        client = fetcher(tmp_path, retries=3)
        with pytest.raises(FetchError, match=r"^GET https://127\.0\.0\.1:\d+/Dockerfile: TLS error: .*certificate"):
            client.get_text(server.url_for("/Dockerfile"))
        assert client.requests_made == 1
    finally:
        server.clear()
        server.stop()


def test_https_trickle_fails_at_the_deadline(raw_server, tls_server_context, tmp_path):
    server = raw_server(trickling_body, tls=tls_server_context)
    started = time.monotonic()

    with pytest.raises(FetchError, match=r": timed out after 0\.6 s \(total time limit\)$"):
        fetcher(tmp_path, read_timeout=1, deadline=0.6).get_text(server.url())
    assert time.monotonic() - started < 1.5


# -- the cache directory ----------------------------------------------------------------------


@contextlib.contextmanager
def without_write_access(directory: Path):
    """Make ``directory`` read-only for this process (root ignores permission bits, so
    root drops its effective uid to nobody meanwhile)."""
    for path in [directory, *directory.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    dropped = False
    if os.geteuid() == 0:
        try:
            os.seteuid(65534)
            dropped = True
        except OSError:
            skip_unless_ci("cannot drop privileges to make a read-only directory")
    try:
        yield
    finally:
        if dropped:
            os.seteuid(0)
        for path in [directory, *directory.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture
def world_readable_dir():
    path = Path(tempfile.mkdtemp(prefix="fetch-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_read_only_cache_dir_is_read_but_never_written(httpserver, world_readable_dir):
    cache_dir = world_readable_dir / "cache"
    httpserver.expect_request("/Dockerfile").respond_with_handler(etag_handler(DOCKERFILE))
    httpserver.expect_request("/other").respond_with_data("FROM alpine\n", headers={"ETag": '"o"'})
    fetcher(cache_dir).get_text(httpserver.url_for("/Dockerfile"))
    fetcher(cache_dir, offline=True).get_text(httpserver.url_for("/Dockerfile"))
    before = cache_files(cache_dir)

    with without_write_access(cache_dir):
        client = fetcher(cache_dir)
        cached = client.get_text(httpserver.url_for("/Dockerfile"))
        other = client.get_text(httpserver.url_for("/other"))
        offline = fetcher(cache_dir, offline=True).get_text(httpserver.url_for("/Dockerfile"))

    assert cached.from_cache and cached.text == DOCKERFILE
    assert other.text == "FROM alpine\n" and not other.from_cache
    assert offline.text == DOCKERFILE
    assert len(client.warnings) == 1 and "read-only" in client.warnings[0]
    assert sum(line.startswith("warning:") for line in client.log) == 1
    assert cache_files(cache_dir) == before


def test_unusable_cache_dir_means_no_cache(httpserver, tmp_path):
    not_a_dir = tmp_path / "cache"
    not_a_dir.write_text("a file where the cache dir should be")
    httpserver.expect_request("/Dockerfile").respond_with_data(DOCKERFILE, headers={"ETag": '"x"'})
    client = fetcher(not_a_dir)

    for _ in range(2):
        got = client.get_text(httpserver.url_for("/Dockerfile"))
        assert got.text == DOCKERFILE and not got.from_cache
    assert len(httpserver.log) == 2
    assert len(client.warnings) == 1 and "unusable" in client.warnings[0]
    assert sum(line.startswith("warning:") for line in client.log) == 1
    assert not_a_dir.read_text() == "a file where the cache dir should be"


def test_corrupted_cache_entry_is_refetched(httpserver, tmp_path):
    httpserver.expect_request("/Dockerfile").respond_with_handler(etag_handler(DOCKERFILE))
    url = httpserver.url_for("/Dockerfile")
    fetcher(tmp_path).get_text(url)
    entries = [p for p in (tmp_path / "http").rglob("*") if p.is_file() and p.stat().st_size > 0]
    assert entries
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])

    got = fetcher(tmp_path).get_text(url)
    assert got.text == DOCKERFILE and not got.from_cache
    assert "If-None-Match" not in served(httpserver)[1].headers

    assert fetcher(tmp_path).get_text(url).from_cache  # the entry was written again
    assert [response.status_code for _, response in httpserver.log] == [200, 200, 304]


# -- local files ----------------------------------------------------------------------------


def test_local_paths_and_file_urls_are_read_from_disk(tmp_path):
    path = tmp_path / "my image" / "Dockerfile"
    path.parent.mkdir()
    path.write_text(DOCKERFILE)
    client = fetcher(tmp_path / "cache")

    by_path = client.get_text(str(path))
    by_url = client.get_text(path.as_uri())

    assert by_path.text == by_url.text == DOCKERFILE
    assert not by_path.from_cache and by_path.content_type is None
    assert by_url.url == path.as_uri()
    assert client.requests_made == 0
    assert not (tmp_path / "cache").exists()


def test_local_files_have_the_same_limits(tmp_path):
    (tmp_path / "big").write_text("#" * 2000)
    (tmp_path / "binary").write_bytes(b"\x7fELF\x00\x00")
    (tmp_path / "page.html").write_text("<!doctype html><html></html>")
    client = fetcher(None, max_bytes=1000)

    with pytest.raises(FetchError, match=r"big: file larger than 1 kB$"):
        client.get_text(str(tmp_path / "big"))
    with pytest.raises(FetchError, match=r"binary: binary content"):
        client.get_text(str(tmp_path / "binary"))
    with pytest.raises(FetchError, match=r"page\.html: not a Dockerfile \(HTML page\)$"):
        client.get_text(str(tmp_path / "page.html"))
    with pytest.raises(FetchError, match=r"nothing: No such file or directory$"):
        client.get_text(str(tmp_path / "nothing"))
    with pytest.raises(FetchError, match=r": is a directory$"):
        client.get_text(tmp_path.as_uri())


def test_unsupported_scheme_is_refused():
    with pytest.raises(FetchError, match=r"^ftp://example\.invalid/Dockerfile: unsupported URL scheme 'ftp'"):
        Fetcher(None).get_text("ftp://example.invalid/Dockerfile")
