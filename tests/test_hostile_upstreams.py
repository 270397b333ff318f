"""Hostile upstreams, end to end through the ``analyze`` command.

Every case runs the real CLI in a subprocess against servers on 127.0.0.1 that misbehave
(at the socket level: ``RawServer`` from test_fetch; as HTTP: pytest-httpserver; as a
registry: ``FakeRegistry`` from test_registry), with a catalog and a cache dir of its own.
Each one checks the same four things:

* one ``analyze: note:`` line naming the image and the problem, and no traceback;
* the analysis completes with what it knows: exit 1 with the lint findings of the user's
  Dockerfile, the image's lineage marked unresolved;
* bounded time: the runs set ``ANALYZE_HTTP_DEADLINE`` (the time limit of one request in
  all) to ``DEADLINE`` seconds, far below the 15 s read timeout, so a server that keeps
  sending a byte now and then is cut by the deadline, not by a read timeout;
* nothing hostile in the cache: the cache dir holds no byte of the hostile answer, and a
  second run against the same URL, now served well, gives the right lineage.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from conftest import started_http_servers
from test_fetch import RawServer
from test_registry import REPO, FakeRegistry, sha

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 3  # ANALYZE_HTTP_DEADLINE of these runs, in seconds
SLACK = 10  # interpreter start, imports and the rest of the run, on a busy machine
IMAGE = "127.0.0.1:9/team/base:1"  # port 9: nothing listens, the registry fallback fails at once
GOOD = "FROM debian:12\nRUN echo good-upstream\n"
USER_DOCKERFILE = f"FROM {IMAGE}\nRUN apt-get install curl\n"
MARKER = b"HOSTILE-MARKER-5b1f"


# -- running the CLI -----------------------------------------------------------------------------


def analyze(tmp_path: Path, *args, env=None, timeout=120):
    """Run ``analyze --format json`` on the user's Dockerfile; (proc, seconds, file entry)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYZE_") and k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    full_env.update({
        "ANALYZE_HTTP_DEADLINE": str(DEADLINE),
        "DOCKER_CONFIG": str(tmp_path / "no-docker-config"),  # never the user's credentials
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    })
    full_env.update(env or {})
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", "--format", "json", *map(str, args)],
        capture_output=True, text=True, cwd=ROOT, env=full_env, timeout=timeout,
    )
    elapsed = time.monotonic() - started
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1), proc.stderr
    return proc, elapsed, json.loads(proc.stdout)["files"][0]


def user_file(tmp_path: Path, text: str = USER_DOCKERFILE) -> Path:
    df = tmp_path / "Dockerfile"
    df.write_text(text)
    return df


def catalog(tmp_path: Path, url: str, image: str = "127.0.0.1:9/team/base") -> Path:
    cat = tmp_path / "catalog.yaml"
    cat.write_text(f"images:\n  - image: {image}\n    dockerfile: {json.dumps(url)}\n")
    return cat


def notes(proc) -> list[str]:
    return [line[len("analyze: note: "):] for line in proc.stderr.splitlines() if line.startswith("analyze: note: ")]


def assert_degraded(proc, entry, problem: str, image: str = IMAGE) -> str:
    """The run reported ``problem`` for ``image`` in one note line, kept the lint findings
    and left the image unresolved. Returns the note."""
    found = [n for n in notes(proc) if n.startswith(f"{image}: ") and re.search(problem, n)]
    assert len(found) == 1, proc.stderr
    assert proc.returncode == 1, proc.stderr
    rules = {f["rule"] for f in entry["findings"]}
    assert {"AN3014", "AN3015"} <= rules, rules  # apt-get install without -y, recommends
    assert "AN6001" not in rules  # nothing is called missing on a chain that is not known
    assert entry["lineage"][0]["image"] == image
    assert entry["lineage"][0]["kind"] == "unresolved"
    assert any(re.search(problem, e) for e in entry["lineage"][0]["errors"])
    return found[0]


def assert_resolved_from(entry, source: str, image: str = IMAGE) -> None:
    """The healthy run read GOOD at ``source``: the image's parent comes from its text."""
    first = entry["lineage"][0]
    assert (first["image"], first["kind"], first["source"], first["parent"]) == (image, "dockerfile", source, "debian:12"), entry["lineage"]
    assert "errors" not in first
    assert entry["lineage"][1]["kind"] == "root"


def cache_bytes(cache: Path) -> dict[str, bytes]:
    return {str(p.relative_to(cache)): p.read_bytes() for p in cache.rglob("*") if p.is_file()}


def assert_clean_cache(cache: Path, *needles: bytes) -> None:
    files = cache_bytes(cache)
    for name, data in files.items():
        for needle in needles:
            assert needle not in data, f"{needle!r} stored in {name}"
        assert not Path(name).name.startswith(".tmp-"), f"partial file left: {name}"


# -- servers that misbehave at the socket level ----------------------------------------------------


class Switch:
    """A RawServer handler that is hostile until ``good`` is set, then serves GOOD."""

    def __init__(self, hostile):
        self.hostile = hostile
        self.good = False

    def __call__(self, conn, number, stop):
        if self.good:
            body = GOOD.encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            return
        self.hostile(conn, number, stop)


def byte_per_second(conn, number, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\nFROM " + MARKER + b"\n")
    while not stop.wait(1):
        conn.sendall(b"#")


def never_closes(conn, number, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nFROM " + MARKER + b"\n")
    stop.wait(60)


def endless(conn, number, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nFROM debian:12\n")
    block = b"RUN " + MARKER + b"\n" * 4000
    while not stop.is_set():
        conn.sendall(block)


@pytest.fixture
def raw_server():
    servers: list[RawServer] = []

    def start(handler) -> RawServer:
        server = RawServer(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize(
    "hostile, problem, cut_by_deadline",
    [
        (byte_per_second, rf"timed out after {DEADLINE} s \(total time limit\)", True),
        (never_closes, rf"timed out after {DEADLINE} s \(total time limit\)", True),
        (endless, r"body larger than 2 MB", False),
    ],
    ids=["one-byte-a-second", "never-closes", "endless-body"],
)
def test_misbehaving_socket(raw_server, tmp_path, hostile, problem, cut_by_deadline):
    handler = Switch(hostile)
    server = raw_server(handler)
    cache = tmp_path / "cache"
    cat = catalog(tmp_path, server.url())
    df = user_file(tmp_path)

    proc, elapsed, entry = analyze(tmp_path, "--catalog", cat, "--cache-dir", cache, df)
    note = assert_degraded(proc, entry, problem)
    assert f"GET {server.url()}" in note
    # the read timeout (15 s) never fires on these servers: the total deadline cut them
    assert elapsed < DEADLINE + SLACK, elapsed
    if cut_by_deadline:
        assert elapsed >= DEADLINE, elapsed
    assert server.connections == 1  # a time-out or an oversized body is not retried
    assert_clean_cache(cache, MARKER)

    handler.good = True
    proc, _, entry = analyze(tmp_path, "--catalog", cat, "--cache-dir", cache, df)
    assert_resolved_from(entry, server.url())
    assert not [n for n in notes(proc) if n.startswith(IMAGE)], proc.stderr


def test_default_deadline_is_30_seconds(tmp_path, monkeypatch):
    """What the runs above shorten: 30 s for one request in all, Dockerfiles and registry
    alike; layer blobs get 20 times that. A bad value is one clear error."""
    from analyzer.lineage.fetch import Fetcher, request_deadline
    from analyzer.lineage.registry import Registry
    from analyzer.model import AnalyzerError

    monkeypatch.delenv("ANALYZE_HTTP_DEADLINE", raising=False)
    assert Fetcher(None).deadline == 30 and Fetcher(None).read_timeout == 15
    reg = Registry(None)
    assert (reg.deadline, reg.blob_deadline, reg.timeout) == (30, 600, (5, 15))
    monkeypatch.setenv("ANALYZE_HTTP_DEADLINE", "2.5")
    assert Fetcher(None).deadline == 2.5 and Registry(None).deadline == 2.5
    for bad in ("soon", "0", "-1", "1e9"):
        monkeypatch.setenv("ANALYZE_HTTP_DEADLINE", bad)
        with pytest.raises(AnalyzerError, match="ANALYZE_HTTP_DEADLINE"):
            request_deadline()
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", "--cache-dir", tmp_path / "c", user_file(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "ANALYZE_HTTP_DEADLINE": "soon"}, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["analyze: error: ANALYZE_HTTP_DEADLINE='soon': expected a number of seconds (above 0, at most 3600)"]


# -- hostile HTTP answers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers():
    yield from started_http_servers(2)


@pytest.fixture
def web(servers):
    servers[0].clear()
    return servers[0]


@pytest.fixture
def elsewhere(servers):
    """Another origin (another port, named localhost)."""
    servers[1].clear()
    return servers[1]


def requests_of(server: HTTPServer) -> list:
    return [request for request, _ in server.log]


@pytest.mark.parametrize("status", [301, 302, 308])
def test_redirect_loop_is_cut_and_not_remembered(web, tmp_path, status):
    web.expect_request("/a").respond_with_data("", status=status, headers={"Location": "/b"})
    web.expect_request("/b").respond_with_data("", status=status, headers={"Location": "/a"})
    cache = tmp_path / "cache"
    url = web.url_for("/a")
    cat = catalog(tmp_path, url)
    df = user_file(tmp_path)

    proc, elapsed, entry = analyze(tmp_path, "--catalog", cat, "--cache-dir", cache, df)
    assert_degraded(proc, entry, r"too many redirects \(more than 5\)")
    assert len(requests_of(web)) == 6
    assert elapsed < SLACK

    # the loop is over: a permanent redirect of the loop must not be followed from the cache
    web.clear()
    web.expect_request("/a").respond_with_data(GOOD, content_type="text/plain")
    proc, _, entry = analyze(tmp_path, "--catalog", cat, "--cache-dir", cache, df)
    assert_resolved_from(entry, url)
    assert [r.path for r in requests_of(web)] == ["/a"]


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/Dockerfile", "gopher://127.0.0.1:70/1"])
def test_redirect_to_another_scheme_is_refused(web, tmp_path, target):
    web.expect_request("/Dockerfile").respond_with_data("", status=302, headers={"Location": target})
    cache = tmp_path / "cache"
    cat = catalog(tmp_path, web.url_for("/Dockerfile"))

    proc, elapsed, entry = analyze(tmp_path, "--catalog", cat, "--cache-dir", cache, user_file(tmp_path))
    assert_degraded(proc, entry, rf"redirect to {re.escape(target)} refused \(only http and https redirects are followed\)")
    assert "root:x:0:0" not in proc.stdout + proc.stderr
    assert_clean_cache(cache, b"root:x:0:0", target.encode())


@pytest.mark.parametrize("how", ["userinfo", "docker-config"])
def test_credentials_do_not_follow_a_redirect_to_another_host(web, elsewhere, tmp_path, how):
    """The catalog URL carries a password; the server sends the request on to another
    origin, which serves the Dockerfile: it must never see the credentials. A DOCKER_CONFIG
    holding credentials for both hosts changes nothing (they are for registries only)."""
    password = "S3cretPassw0rd-redirect"
    other = f"http://localhost:{elsewhere.port}/Dockerfile"
    web.expect_request("/private").respond_with_data("", status=302, headers={"Location": "/moved"})
    web.expect_request("/moved").respond_with_data("", status=302, headers={"Location": other})
    elsewhere.expect_request("/Dockerfile").respond_with_data(GOOD, content_type="text/plain")
    config = tmp_path / "docker"
    config.mkdir()
    auth = base64.b64encode(f"deploy:{password}".encode()).decode()
    config.joinpath("config.json").write_text(json.dumps({"auths": {
        f"127.0.0.1:{web.port}": {"auth": auth}, f"localhost:{elsewhere.port}": {"auth": auth},
    }}))
    url = web.url_for("/private")
    if how == "userinfo":
        url = url.replace("http://", f"http://deploy:{password}@")
    cache = tmp_path / "cache"
    cat = catalog(tmp_path, url)

    proc, _, entry = analyze(tmp_path, "--catalog", cat, "--cache-dir", cache, "-v", user_file(tmp_path), env={"DOCKER_CONFIG": str(config)})
    shown = web.url_for("/private").replace("http://", "http://deploy:***@") if how == "userinfo" else url
    assert_resolved_from(entry, shown)
    first = requests_of(web)
    assert [r.path for r in first] == ["/private", "/moved"]
    if how == "userinfo":
        assert all(r.headers.get("Authorization") == f"Basic {auth}" for r in first)
    else:
        assert all("Authorization" not in r.headers for r in first)
    assert [dict(r.headers).get("Authorization") for r in requests_of(elsewhere)] == [None]
    assert [dict(r.headers).get("Cookie") for r in requests_of(elsewhere)] == [None]
    for text in (proc.stdout, proc.stderr):
        assert password not in text and auth not in text
    assert_clean_cache(cache, password.encode(), auth.encode())


@pytest.mark.parametrize(
    "content_type, body, problem",
    [
        ("image/png", b"FROM debian:12\nRUN " + MARKER + b"\n", r"not a Dockerfile \(content type image/png\)"),
        ("application/octet-stream", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + MARKER, r"binary content, not text \(NUL byte at offset 8\)"),
        ("image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + MARKER, r"not a Dockerfile \(content type image/png\)"),
        ("text/html; charset=utf-8", b"<!DOCTYPE html><html><body>" + MARKER + b" Sign in</body></html>", r"not a Dockerfile \(HTML page\)"),
        ("text/plain", b"\n  <html><head><title>404 " + MARKER + b"</title></head></html>", r"not a Dockerfile \(HTML page\)"),
    ],
    ids=["png-type-text-body", "octet-stream-png-body", "png", "html-200", "html-as-text-plain"],
)
def test_what_is_not_a_dockerfile_is_refused(web, tmp_path, content_type, body, problem):
    web.expect_request("/Dockerfile").respond_with_data(body, content_type=content_type, headers={"ETag": '"hostile"', "Cache-Control": "max-age=3600"})
    cache = tmp_path / "cache"
    url = web.url_for("/Dockerfile")
    cat = catalog(tmp_path, url)
    df = user_file(tmp_path)

    proc, _, entry = analyze(tmp_path, "--catalog", cat, "--cache-dir", cache, df)
    assert_degraded(proc, entry, problem)
    assert_clean_cache(cache, MARKER)

    web.clear()
    web.expect_request("/Dockerfile").respond_with_data(GOOD, content_type="text/plain")
    proc, _, entry = analyze(tmp_path, "--catalog", cat, "--cache-dir", cache, df)
    assert_resolved_from(entry, url)
    # a fresh (max-age) hostile answer would have been served from the cache instead
    assert [r.path for r in requests_of(web)] == ["/Dockerfile"]


def test_a_text_dockerfile_sent_as_octet_stream_is_read(web, tmp_path):
    """The counterpart: servers send extension-less files as application/octet-stream."""
    web.expect_request("/Dockerfile").respond_with_data(GOOD, content_type="application/octet-stream")
    url = web.url_for("/Dockerfile")
    _, _, entry = analyze(tmp_path, "--catalog", catalog(tmp_path, url), "--cache-dir", tmp_path / "cache", user_file(tmp_path))
    assert_resolved_from(entry, url)


# -- catalogs whose chains never end ----------------------------------------------------------------


@pytest.mark.parametrize("images", [("a", "b"), ("a",), ("a", "b", "c")], ids=["two", "self", "three"])
def test_from_cycle_is_named_and_stops(web, tmp_path, images):
    names = [f"127.0.0.1:9/team/{x}:1" for x in images]
    for i, x in enumerate(images):
        parent = names[(i + 1) % len(names)]
        web.expect_request(f"/{x}/Dockerfile").respond_with_data(f"FROM {parent}\nRUN echo {x}\n", content_type="text/plain")
    cat = tmp_path / "catalog.yaml"
    cat.write_text("images:\n  - image: 127.0.0.1:9/team/*\n    dockerfile: " + web.url_for("/") + "{name}/Dockerfile\n")
    df = user_file(tmp_path, f"FROM {names[0]}\nRUN apt-get install curl\n")

    proc, elapsed, entry = analyze(tmp_path, "--catalog", cat, "--cache-dir", tmp_path / "cache", df)
    cycle = " -> ".join(names + [names[0]])
    assert notes(proc) == [f"{names[0]}: FROM cycle: {cycle}; the chain stops there"], proc.stderr
    assert proc.returncode == 1
    assert {"AN3014", "AN3015"} <= {f["rule"] for f in entry["findings"]}
    assert not [f for f in entry["findings"] if f["rule"] == "AN6001"]
    assert [e["image"] for e in entry["lineage"]] == names
    assert entry["lineage"][-1]["parent"] is None
    assert len(requests_of(web)) == len(images)  # each file fetched once
    assert elapsed < SLACK


def test_parent_chain_beyond_the_depth_guard(web, tmp_path):
    from analyzer.lineage.resolve import MAX_DEPTH

    length = MAX_DEPTH + 10
    for i in range(length):
        web.expect_request(f"/level{i}/Dockerfile").respond_with_data(
            f"FROM 127.0.0.1:9/deep/level{i + 1}:1\nRUN echo {i}\n", content_type="text/plain"
        )
    cat = tmp_path / "catalog.yaml"
    cat.write_text("images:\n  - image: 127.0.0.1:9/deep/*\n    dockerfile: " + web.url_for("/") + "{name}/Dockerfile\n")
    df = user_file(tmp_path, "FROM 127.0.0.1:9/deep/level0:1\nRUN apt-get install curl\n")

    proc, elapsed, entry = analyze(tmp_path, "--catalog", cat, "--cache-dir", tmp_path / "cache", df)
    last = f"127.0.0.1:9/deep/level{MAX_DEPTH - 1}:1"
    assert notes(proc) == [
        f"127.0.0.1:9/deep/level0:1: parent chain longer than {MAX_DEPTH} images; stopped after {last} "
        f"(its parent 127.0.0.1:9/deep/level{MAX_DEPTH}:1 and what lies above it are unknown)"
    ], proc.stderr
    assert proc.returncode == 1
    assert {"AN3014", "AN3015"} <= {f["rule"] for f in entry["findings"]}
    assert not [f for f in entry["findings"] if f["rule"] == "AN6001"]  # the root is not known
    assert len(entry["lineage"]) == MAX_DEPTH
    assert len(requests_of(web)) == MAX_DEPTH  # nothing fetched beyond the guard
    assert elapsed < SLACK


# -- a hostile registry ---------------------------------------------------------------------------------


class HostileRegistry(FakeRegistry):
    """FakeRegistry whose token endpoint can misbehave (``token_mode``)."""

    token_mode = "good"

    def handle(self, request):
        if request.path == "/token" and self.token_mode != "good":
            self.token_requests.append(request)
            mode = self.token_mode
            if mode == "not-json":
                return Response(b"<html>" + MARKER + b"</html>", content_type="application/json")
            if mode == "no-token":
                return Response(json.dumps({"expires_in": 300, "note": MARKER.decode()}), content_type="application/json")
            if mode == "huge":
                return Response(b'{"token": "' + MARKER + b"A" * 1_500_000 + b'"}', content_type="application/json")
            if mode == "huge-chunked":
                return Response(iter([b'{"token": "', MARKER] + [b"A" * 100_000] * 15 + [b'"}']), content_type="application/json")
            if mode == "500":
                return Response(MARKER, status=500)
            raise AssertionError(mode)
        return super().handle(request)


@pytest.fixture
def registry(servers):
    for server in servers:
        server.clear()
    return HostileRegistry(*servers)


def registry_image(reg: FakeRegistry, tag: str = "single") -> str:
    return f"{reg.host}/{REPO}:{tag}"


def registry_dockerfile(tmp_path: Path, reg: FakeRegistry) -> Path:
    return user_file(tmp_path, f"FROM {registry_image(reg)}\nRUN apt-get install curl\n")


def assert_registry_lineage(entry, reg: FakeRegistry) -> None:
    first = entry["lineage"][0]
    assert first["kind"] == "registry", entry["lineage"]
    assert first["source"] == f"registry:{reg.host}/{REPO}@{reg.amd64}"
    assert "errors" not in first


def blob_names(cache: Path) -> set[str]:
    blobs = cache / "registry" / "blobs" / "sha256"
    return {p.name for p in blobs.iterdir()} if blobs.is_dir() else set()


@pytest.mark.parametrize(
    "mode, problem",
    [
        ("not-json", r"token for .*: not valid JSON"),
        ("no-token", r"token response holds no token"),
        ("huge", r"token for .*: larger than 1000000 bytes"),
        ("huge-chunked", r"token for .*: larger than 1000000 bytes"),
        ("500", r"token request to http://127\.0\.0\.1:\d+/token failed with HTTP 500"),
    ],
    ids=["not-json", "no-token", "huge", "huge-chunked", "500"],
)
def test_token_endpoint_that_returns_garbage(registry, tmp_path, mode, problem):
    registry.token_mode = mode
    cache = tmp_path / "cache"
    df = registry_dockerfile(tmp_path, registry)

    proc, elapsed, entry = analyze(tmp_path, "--cache-dir", cache, df)
    found = [n for n in notes(proc) if re.search(problem, n)]
    assert len(found) == 1 and registry_image(registry) in found[0], proc.stderr
    assert proc.returncode == 1 and entry["lineage"][0]["kind"] == "unresolved"
    assert {"AN3014", "AN3015"} <= {f["rule"] for f in entry["findings"]}
    assert elapsed < SLACK
    assert MARKER.decode() not in proc.stderr + proc.stdout
    assert not registry.cdn_requests and not blob_names(cache)
    assert_clean_cache(cache, MARKER)

    registry.token_mode = "good"
    proc, _, entry = analyze(tmp_path, "--cache-dir", cache, df)
    assert_registry_lineage(entry, registry)
    assert not notes(proc), proc.stderr


def test_token_endpoint_trickling_its_headers_is_cut_by_the_deadline(registry, raw_server, tmp_path):
    """Before: the registry client had per-read time-outs only, and a token server sending a
    header byte every 50 ms held the run forever."""

    def trickling_headers(conn, number, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while not stop.wait(0.05):
            conn.sendall(b"a")

    slow = raw_server(trickling_headers)
    registry.challenge = f'Bearer realm="{slow.url("/token")}",service="x",scope="repository:{REPO}:pull"'
    proc, elapsed, entry = analyze(tmp_path, "--cache-dir", tmp_path / "cache", registry_dockerfile(tmp_path, registry))
    found = [n for n in notes(proc) if "timed out after 3 s (total time limit)" in n]
    assert len(found) == 1 and registry_image(registry) in found[0] and "/token" in found[0], proc.stderr
    assert entry["lineage"][0]["kind"] == "unresolved"
    assert DEADLINE <= elapsed < DEADLINE + SLACK, elapsed


def test_manifest_whose_digest_does_not_match(registry, tmp_path):
    """The tag points to a digest whose manifest arrives altered: an error, nothing cached
    (not even the tag's answer, which is remembered for 5 minutes), and a later run against
    the repaired registry gets the right image."""
    bogus = "sha256:" + "0" * 64
    registry.manifests[bogus] = registry.manifests[registry.amd64]  # content that is not `bogus`
    registry.tags["single"] = bogus
    cache = tmp_path / "cache"
    df = registry_dockerfile(tmp_path, registry)

    proc, elapsed, entry = analyze(tmp_path, "--cache-dir", cache, df)
    found = [n for n in notes(proc) if "does not match its digest" in n]
    assert len(found) == 1 and found[0].startswith(f"manifest {registry.host}/{REPO}@{bogus}: "), proc.stderr
    assert proc.returncode == 1 and entry["lineage"][0]["kind"] == "unresolved"
    assert {"AN3014", "AN3015"} <= {f["rule"] for f in entry["findings"]}
    assert not blob_names(cache)
    assert not list((cache / "registry").rglob("tags/*"))
    assert_clean_cache(cache)

    registry.tags["single"] = registry.amd64
    proc, _, entry = analyze(tmp_path, "--cache-dir", cache, df)
    assert_registry_lineage(entry, registry)
    assert not notes(proc), proc.stderr
    assert registry.amd64[7:] in blob_names(cache)


def test_tampered_layer_is_not_listed_nor_cached(registry, tmp_path):
    layer = sha(registry.layer)
    registry.tamper.add(layer)
    cache = tmp_path / "cache"
    df = registry_dockerfile(tmp_path, registry)
    proc, _, entry = analyze(tmp_path, "--cache-dir", cache, df)
    found = [n for n in notes(proc) if "does not match its digest" in n]
    assert len(found) == 1 and found[0].startswith(f"blob {registry.host}/{REPO}@{layer}: "), proc.stderr
    assert layer[7:] not in blob_names(cache)
    assert not (cache / "registry" / "listings").exists() or not list((cache / "registry" / "listings").iterdir())

    registry.tamper.clear()
    proc, _, entry = analyze(tmp_path, "--cache-dir", cache, df)
    assert_registry_lineage(entry, registry)
    assert layer[7:] in blob_names(cache)


def test_registry_credentials_stay_with_the_registry(registry, tmp_path):
    """Credentials from a DOCKER_CONFIG go to the registry (Basic challenge) and nowhere
    else: the blob redirect to the CDN (another origin) carries no Authorization."""
    password = "S3cretPassw0rd-registry"
    auth = base64.b64encode(f"alice:{password}".encode()).decode()
    config = tmp_path / "docker"
    config.mkdir()
    config.joinpath("config.json").write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
    registry.challenge = 'Basic realm="private"'
    registry.basic = f"Basic {auth}"
    cache = tmp_path / "cache"

    proc, _, entry = analyze(tmp_path, "--cache-dir", cache, "-v", registry_dockerfile(tmp_path, registry), env={"DOCKER_CONFIG": str(config)})
    assert_registry_lineage(entry, registry)
    sent = [r.headers.get("Authorization") for r in registry.registry_requests]
    assert sent[0] is None and set(sent[1:]) == {f"Basic {auth}"}
    assert registry.cdn_requests, "the layer was fetched from the CDN"
    assert all("Authorization" not in r.headers for r in registry.cdn_requests)
    assert not registry.token_requests
    for text in (proc.stdout, proc.stderr):
        assert password not in text and auth not in text
    assert_clean_cache(cache, password.encode(), auth.encode())


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x"])
def test_registry_redirect_to_another_scheme_is_refused(registry, tmp_path, target):
    registry.server.clear()
    registry.server.expect_request(re.compile("/v2/.*")).respond_with_data("", status=302, headers={"Location": target})
    proc, _, entry = analyze(tmp_path, "--cache-dir", tmp_path / "cache", registry_dockerfile(tmp_path, registry))
    found = [n for n in notes(proc) if "redirect to a non-HTTP URL" in n]
    assert len(found) == 1 and registry_image(registry) in found[0], proc.stderr
    assert entry["lineage"][0]["kind"] == "unresolved"
    assert "root:x:0:0" not in proc.stdout + proc.stderr
