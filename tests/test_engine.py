"""The local Docker engine as a lineage source: a real HTTP server on a unix socket that
answers like the engine's image API, and the real daemon for an image only it has."""

from __future__ import annotations

import io
import json
import os
import socketserver
import subprocess
import sys
import tarfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from analyzer.lineage.engine import Engine, EngineError, engine_address
from analyzer.lineage.resolve import _engine_history

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------ units


def test_engine_address_follows_docker_host(tmp_path):
    sock = tmp_path / "d.sock"
    sock.write_text("")
    assert engine_address({"DOCKER_HOST": f"unix://{sock}"}) == ("unix", str(sock))
    assert engine_address({"DOCKER_HOST": f"unix://{tmp_path}/missing.sock"}) is None
    assert engine_address({"DOCKER_HOST": "tcp://127.0.0.1:2375"}) == ("tcp", "127.0.0.1:2375")
    assert engine_address({"DOCKER_HOST": "tcp://10.0.0.1"}) == ("tcp", "10.0.0.1:2375")
    assert engine_address({"DOCKER_HOST": "tcp://10.0.0.1:2376", "DOCKER_TLS_VERIFY": "1"}) is None
    assert engine_address({"DOCKER_HOST": "ssh://me@host"}) is None
    default = engine_address({})
    assert default == (("unix", "/var/run/docker.sock") if os.path.exists("/var/run/docker.sock") else None)


def test_history_sizes_and_empty_layers():
    rows = [("/bin/sh -c #(nop) COPY file:x in /", False), ("RUN true", True), ("/bin/sh -c #(nop)  ENV A=1", True)]
    assert _engine_history(rows, 1) == rows  # sizes account for every layer
    # RUN true made a layer of size 0: only the metadata step is empty
    assert _engine_history(rows, 2) == [rows[0], ("RUN true", False), rows[2]]


# ------------------------------------------------------------------------------ a fake engine on a socket


def _layer(files: dict) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, (mode, data) in files.items():
            info = tarfile.TarInfo(name)
            info.mode, info.size = mode, len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _save_stream(layers: list) -> bytes:
    """A ``docker save`` archive (Docker 20.10 layout): layer dirs, then the manifest."""
    buf = io.BytesIO()
    names = []
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for i, data in enumerate(layers):
            name = f"{i:064x}/layer.tar"
            names.append(name)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        manifest = json.dumps([{"Config": "c.json", "RepoTags": ["local/app:1"], "Layers": names}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    return buf.getvalue()


class _UnixHTTPServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


@pytest.fixture
def fake_engine(tmp_path):
    base = _layer({"bin/sh": (0o755, b"#!"), "bin/ls": (0o755, b"#!")})
    app = _layer({"usr/local/bin/hello": (0o755, b"#!/bin/sh\necho hi\n"), "etc/app.conf": (0o644, b"x")})
    image = {
        "Id": "sha256:" + "ab" * 32,
        "Config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "APP=1"], "User": "app", "WorkingDir": "/srv"},
        "RootFS": {"Type": "layers", "Layers": ["sha256:" + "11" * 32, "sha256:" + "22" * 32]},
    }
    history = [  # newest first, as the engine answers
        {"CreatedBy": "/bin/sh -c #(nop)  USER app", "Size": 0},
        {"CreatedBy": "/bin/sh -c #(nop) COPY file:abc in /usr/local/bin/hello ", "Size": len(app)},
        {"CreatedBy": "/bin/sh -c #(nop) ADD file:def in / ", "Size": len(base)},
    ]
    requests: list = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            requests.append(self.path)
            if self.path.endswith("/images/local%2Fapp%3A1/json"):
                body, kind = json.dumps(image).encode(), "application/json"
            elif self.path.endswith(f"/images/{image['Id'].replace(':', '%3A')}/history"):
                body, kind = json.dumps(history).encode(), "application/json"
            elif self.path.endswith(f"/images/{image['Id'].replace(':', '%3A')}/get"):
                body, kind = _save_stream([base, app]), "application/x-tar"
            else:
                self.send_response(404)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    sock = tmp_path / "engine.sock"
    server = _UnixHTTPServer(str(sock), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"socket": sock, "requests": requests, "image": image}
    server.shutdown()
    server.server_close()


def _analyze(*args, env=None, timeout=120):
    full = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS", "ANALYZE_DOCKER")}
    full.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "analyzer", *map(str, args)], capture_output=True, text=True, cwd=ROOT, env=full, timeout=timeout)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_engine_client_reads_inspect_history_and_layers(fake_engine):
    engine = Engine(("unix", str(fake_engine["socket"])))
    inspect = engine.inspect("local/app:1")
    assert inspect["Id"] == fake_engine["image"]["Id"]
    assert engine.inspect("nothing:here") is None
    history = engine.history(inspect["Id"])
    assert history[0][0].endswith("ADD file:def in / ") and history[-1] == ("/bin/sh -c #(nop)  USER app", True)
    base, app = engine.list_layers(inspect["Id"], 2)
    assert set(base.added) == {"/bin/sh", "/bin/ls"} and set(app.added) == {"/usr/local/bin/hello"}
    assert engine.list_layers(inspect["Id"], 3) == [None, None, None]  # the stream does not match


def test_unreachable_engine_is_one_line(tmp_path):
    engine = Engine(("unix", str(tmp_path / "none.sock")))
    with pytest.raises(EngineError) as err:
        engine.inspect("x")
    assert str(err.value) == "docker engine: no such socket"


def test_image_only_the_engine_has_resolves_offline(fake_engine, tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM local/app:1\nRUN hello && ls && curl -fsS http://example.com\n")
    proc = _analyze(
        "--offline", "--format", "json", "--cache-dir", tmp_path / "cache", "--explain", "hello", df,
        env={"DOCKER_HOST": f"unix://{fake_engine['socket']}"},
    )
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)["files"][0]
    (entry,) = out["lineage"]
    assert entry["kind"] == "registry" and entry["source"] == f"docker-engine:local/app:1@{fake_engine['image']['Id']}"
    assert "local Docker engine" in entry["note"]
    explain = out["explain"]
    assert explain["status"] == "available" and explain["path"] == "/usr/local/bin/hello"
    assert explain["provided_by"]["instruction"] == "COPY file:abc in /usr/local/bin/hello"
    assert explain["provided_by"]["via"] == "layer 1 " + ("sha256:" + "22" * 32)[:19]
    missing = [f for f in out["findings"] if f["rule"] == "AN6001"]
    assert [f["message"].split(":")[0] for f in missing] == ["curl"], missing
    assert not any("/history" in r or "/get" in r for r in fake_engine["requests"] if "nothing" in r)


def test_engine_off_with_analyze_docker_none(fake_engine, tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM local/app:1\nRUN hello\n")
    proc = _analyze(
        "--offline", "--format", "json", "--cache-dir", tmp_path / "cache", df,
        env={"DOCKER_HOST": f"unix://{fake_engine['socket']}", "ANALYZE_DOCKER": "none"},
    )
    assert json.loads(proc.stdout)["files"][0]["lineage"][0]["kind"] == "unresolved"
    assert fake_engine["requests"] == []


def test_engine_that_does_not_answer_costs_a_bounded_wait(tmp_path):
    import socket
    import time

    path = tmp_path / "silent.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(8)  # accepts connections, never answers
    try:
        df = tmp_path / "Dockerfile"
        df.write_text("FROM local/silent:1\nRUN true\n")
        start = time.monotonic()
        proc = _analyze("--offline", "--format", "json", "--cache-dir", tmp_path / "cache", df, env={"DOCKER_HOST": f"unix://{path}"})
        assert time.monotonic() - start < 30
        assert json.loads(proc.stdout)["files"][0]["lineage"][0]["kind"] == "unresolved"
    finally:
        listener.close()


# ------------------------------------------------------------------------------ the real daemon


@pytest.mark.docker
def test_real_engine_image_built_locally(tmp_path):
    from test_scenarios import BUSYBOX, _unusable, docker, docker_problem

    problem = docker_problem()
    if problem:
        _unusable(f"Docker is not usable: {problem}")
    tag = f"analyze-test/engine-only-{uuid.uuid4().hex[:10]}:1"
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "greet").write_text("#!/bin/sh\necho hello\n")
    (ctx / "greet").chmod(0o755)
    (ctx / "Dockerfile").write_text(f"FROM {BUSYBOX}\nCOPY greet /usr/local/bin/greet\nRUN rm /bin/wget\nENV GREETING=hi\n")
    docker("build", "-q", "-t", tag, str(ctx))
    try:
        user = tmp_path / "Dockerfile"
        user.write_text(f"FROM {tag}\nRUN greet && wget -q http://example.com/x && nosuchtool\n")
        proc = _analyze("--offline", "--format", "json", "--cache-dir", tmp_path / "cache", "--explain", "greet", user)
        assert proc.returncode == 1, proc.stderr
        out = json.loads(proc.stdout)["files"][0]
        entry = out["lineage"][0]
        assert entry["kind"] == "registry" and entry["source"].startswith(f"docker-engine:{tag}@sha256:"), out["lineage"]
        explain = out["explain"]
        assert explain["status"] == "available" and explain["path"] == "/usr/local/bin/greet"
        assert explain["provided_by"]["instruction"].startswith("COPY file:") and "/usr/local/bin/greet" in explain["provided_by"]["instruction"]
        assert explain["provided_by"]["via"].startswith("layer ")
        missing = sorted(f["message"].split(":")[0] for f in out["findings"] if f["rule"] == "AN6001")
        assert missing == ["nosuchtool", "wget"], out["findings"]
    finally:
        docker("rmi", "-f", tag, check=False)


def test_small_answers_are_read_whole_chunked_or_cut_at_their_length():
    from analyzer.lineage.engine import _response

    assert _response(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\": 1}") == (200, b'{"a": 1}')
    assert _response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}garbage") == (200, b"{}")
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[1,\r\n2;ext=x\r\n2]\r\n0\r\n\r\n"
    assert _response(chunked) == (200, b"[1,2]")
    assert _response(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") == (404, b"")
    for broken in (b"", b"garbage", b"HTTP/1.1 200 OK\r\n", b"SSH-2.0-x\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n",
                   b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nab"):
        assert _response(broken) == (None, b""), broken


def test_an_engine_that_answers_nonsense_is_one_line(tmp_path):
    import socket
    import threading

    path = tmp_path / "odd.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(4)

    def answer():
        conn, _ = listener.accept()
        conn.recv(4096)
        conn.sendall(b"this is not HTTP at all\r\n\r\n")
        conn.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        with pytest.raises(EngineError) as err:
            Engine(("unix", str(path))).inspect("x")
        assert str(err.value) == "docker engine: GET /images/x/json: not an HTTP answer"
    finally:
        listener.close()
