"""The cache on disk: atomic writes, damaged entries, a cache that cannot be written, and
eight analyses sharing one cache at once.

The end-to-end tests run the real command against a real HTTP server on 127.0.0.1 that
serves both the sample upstream chain (``sample_dockerfiles/upstream``, through a catalog)
and an OCI registry holding one image with one layer, so that one ``analyze --plan`` run
writes every kind of cache entry: HTTP responses, registry blobs, manifests and tags, layer
listings, build-context hashes and the parsed rule catalog (build records with
``--record``). The read-only and full caches are real file systems (a tmpfs remounted
read-only, a 64 kB tmpfs; skipped where mounting is not permitted), and the same failures
are also injected in-process. A few unit tests pin the entry formats (every single-byte
change of a checked entry is caught) and the Windows rename retry.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import io
import json
import marshal
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from analyzer import cachedir
from conftest import skip_unless_ci

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = ROOT / "sample_dockerfiles" / "upstream" / "images"
SEED = ROOT / "sample_dockerfiles" / "jupyter-kaggle" / "Dockerfile"
REPO = "cache-test/tool"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(big: int) -> bytes:
    """A layer adding an executable and ``big`` bytes of incompressible data."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data, mode in (
            ("usr/local/bin/regtool", b"#!/bin/sh\necho regtool\n", 0o755),
            ("usr/share/regtool/blob.bin", random.Random(7).randbytes(big), 0o644),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a killed client is expected
            super().handle_error(request, client_address)


class Origin:
    """The upstream Dockerfiles under /images/ and a registry under /v2/, on 127.0.0.1.

    ``blob_delay`` trickles the layer in 64 kB pieces; ``half_sent`` is set once half of it
    went out to a request that came after the last ``arm()``. ``requests`` counts every
    request answered."""

    def __init__(self, *, big: int = 256 * 1024, blob_delay: float = 0.0):
        self.files = {
            f"/images/{d.name}/{f.name}": f.read_bytes() for d in UPSTREAM.iterdir() for f in d.iterdir()
        }
        self.layer = layer_tar(big)
        self.config = json.dumps({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
            "history": [{"created_by": "COPY regtool /usr/local/bin/regtool # buildkit"}],
            "rootfs": {"type": "layers", "diff_ids": [sha(self.layer)]},
        }).encode()
        self.manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(self.config), "size": len(self.config)},
            "layers": [{"mediaType": LAYER_TYPE, "digest": sha(self.layer), "size": len(self.layer)}],
        }).encode()
        self.blobs = {sha(self.config): self.config, sha(self.layer): self.layer}
        self.blob_delay = blob_delay
        self.half_sent = threading.Event()
        self.generation = 0
        self.requests = 0
        self._lock = threading.Lock()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                origin._answer(self, head=True)

            def do_GET(self):
                origin._answer(self, head=False)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.image = f"{self.host}/{REPO}:1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def arm(self) -> None:
        """Forget ``half_sent`` (and what answers to earlier clients may still send)."""
        with self._lock:
            self.generation += 1
            self.half_sent.clear()

    def url(self, path: str = "") -> str:
        return f"http://{self.host}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _answer(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        with self._lock:
            self.requests += 1
            generation = self.generation
        path = h.path.split("?", 1)[0]
        headers: dict = {}
        body, trickle = None, False
        if path in self.files:
            body = self.files[path]
            etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
            if h.headers.get("If-None-Match") == etag:
                return self._send(h, 304, b"", {"ETag": etag}, head=True)
            headers = {"Content-Type": "text/plain; charset=utf-8", "ETag": etag}
        elif path == f"/v2/{REPO}/manifests/1" or path == f"/v2/{REPO}/manifests/{sha(self.manifest)}":
            body = self.manifest
            headers = {"Content-Type": MANIFEST_TYPE, "Docker-Content-Digest": sha(self.manifest)}
        elif path.startswith(f"/v2/{REPO}/blobs/") and path.rpartition("/")[2] in self.blobs:
            digest = path.rpartition("/")[2]
            body = self.blobs[digest]
            headers = {"Content-Type": "application/octet-stream", "Docker-Content-Digest": digest}
            trickle = digest == sha(self.layer) and self.blob_delay > 0
        if body is None:
            return self._send(h, 404, b"not found\n", {"Content-Type": "text/plain"}, head=head)
        self._send(h, 200, body, headers, head=head, trickle=trickle, generation=generation)

    def _send(self, h, status, body, headers, *, head=False, trickle=False, generation=None):
        try:
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if head:
                return
            if not trickle:
                h.wfile.write(body)
                return
            piece = 64 * 1024
            for start in range(0, len(body), piece):
                h.wfile.write(body[start:start + piece])
                h.wfile.flush()
                if start >= len(body) // 2 and generation == self.generation:
                    self.half_sent.set()
                time.sleep(self.blob_delay)
        except (BrokenPipeError, ConnectionResetError):
            pass


# ------------------------------------------------------------------------------ the project


def make_project(base: Path, origin: Origin) -> SimpleNamespace:
    """Two Dockerfiles in one build context: the sample seed (lineage through the catalog)
    and one FROM the registry image; both COPY context files, so --plan hashes them."""
    ctx = base / "ctx"
    (ctx / "data").mkdir(parents=True)
    (ctx / "app.py").write_text("print('hello')\n")
    for i in range(5):
        (ctx / "data" / f"part{i}.txt").write_text(f"part {i}\n" * 100)
    nb = ctx / "Dockerfile.nb"
    nb.write_text(SEED.read_text() + "COPY app.py /home/jovyan/app.py\n")
    reg = ctx / "Dockerfile"
    reg.write_text(f"FROM {origin.image}\nCOPY app.py data/ /srv/\nRUN regtool && not-installed-anywhere\n")
    catalog = base / "catalog.yaml"
    catalog.write_text(
        "images:\n"
        '  - image: "jupyter/*"\n'
        f"    dockerfile: {origin.url('/images')}/{{name}}/Dockerfile\n"
        "    build_args: {REGISTRY: docker.io}\n"
    )
    return SimpleNamespace(base=base, ctx=ctx, nb=nb, reg=reg, catalog=catalog)


def command(project: SimpleNamespace, cache: Path, *extra: str) -> list:
    return [
        sys.executable, "-m", "analyzer", "--format", "json", "--cache-dir", str(cache),
        "--catalog", str(project.catalog), "--plan", *extra, str(project.nb), str(project.reg),
    ]


def environment(cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYZE_") and k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    # the rule catalog's cache follows the environment, not --cache-dir
    env.update({cachedir.ENV_VAR: str(cache), "ANALYZE_DOCKER": "none", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def analyze(project: SimpleNamespace, cache: Path, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        command(project, cache, *extra), capture_output=True, text=True, cwd=ROOT, env=environment(cache), timeout=timeout,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1), proc.stderr
    return proc


# ------------------------------------------------------------------------------ cache checks


def is_temp(path: Path) -> bool:
    return path.name.startswith(cachedir.TEMP_PREFIX)


def entry_problem(root: Path, path: Path) -> str | None:
    """Why the file at ``path`` is not a valid cache entry (None when it is one)."""
    rel = path.relative_to(root).parts
    data = path.read_bytes()
    if rel[0] == "http":
        payload = cachedir.unseal(data)
        if payload is None:
            return "seal does not match"
        if payload.startswith(b"cc=4,"):
            import msgpack

            try:
                entry = msgpack.loads(payload[5:], raw=False)
            except Exception as exc:
                return f"not msgpack: {exc}"
            return None if isinstance(entry, dict) and "response" in entry else "no response"
        location = json.loads(payload).get("location")
        return None if isinstance(location, str) else "neither a response nor a redirect"
    if rel[:3] == ("registry", "blobs", "sha256"):
        return None if hashlib.sha256(data).hexdigest() == rel[3] else "content does not match its digest"
    if rel[0] in ("registry", "hashes", "builds") and path.suffix == ".json":
        return None if cachedir.loads_checked(data) is not None else "checksum does not match"
    if len(rel) == 1 and path.name.startswith("catalog-") and path.suffix == ".marshal":
        payload = cachedir.unseal(data)
        return None if payload is not None and isinstance(marshal.loads(payload), list) else "seal does not match"
    if rel[0] == "build-logs" and path.suffix == ".log":
        return None
    return "not a kind of entry the analyzer writes"


def cache_problems(root: Path) -> list[str]:
    """Every final-name file that is not a valid entry (temporary files are skipped)."""
    return [
        f"{p.relative_to(root)}: {why}"
        for p in sorted(root.rglob("*"))
        if p.is_file() and not is_temp(p)
        for why in (entry_problem(root, p),)
        if why
    ]


def entries(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not is_temp(p)}


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and is_temp(p)]


def kind_of(rel: str) -> str:
    parts = Path(rel).parts
    if parts[0] == "http":
        return "http"
    if parts[:2] == ("registry", "tags"):
        return "tag"
    if parts[:2] == ("registry", "listings"):
        return "listing"
    if parts[0] == "registry":
        return "blob"
    if parts[0] == "hashes":
        return "hashes"
    if parts[0] == "builds":
        return "record"
    if parts[0].startswith("catalog-"):
        return "catalog"
    return "other"


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def origin():
    server = Origin()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def warm(origin, tmp_path_factory):
    """A project, a warm cache holding every kind of entry, and the reference run."""
    base = tmp_path_factory.mktemp("warm")
    project = make_project(base, origin)
    cache = base / "template"
    reference = analyze(project, cache)
    assert not cache_problems(cache)
    assert not temp_files(cache)
    kinds = {kind_of(rel) for rel in entries(cache)}
    assert kinds >= {"http", "tag", "listing", "blob", "hashes", "catalog"}, kinds
    again = analyze(project, cache)
    assert again.stdout == reference.stdout
    return SimpleNamespace(project=project, cache=cache, reference=reference)


@pytest.fixture(autouse=True)
def fresh_warning():
    cachedir.reset_warning()
    yield
    cachedir.reset_warning()


def test_reference_run_is_what_the_test_expects(warm, origin):
    out = json.loads(warm.reference.stdout)
    nb, reg = out["files"]
    assert [e["image"] for e in nb["lineage"]][:2] == ["jupyter/scipy-notebook:latest", "jupyter/minimal-notebook:latest"]
    assert nb["lineage"][0]["source"] == origin.url("/images/scipy-notebook/Dockerfile")
    assert reg["lineage"][0]["kind"] == "registry"
    assert reg["lineage"][0]["source"] == f"registry:{origin.host}/{REPO}@{sha(origin.manifest)}"
    missing = {f["message"].split(":")[0] for f in reg["findings"] if f["rule"] == "AN6001"}
    assert missing == {"not-installed-anywhere"}, reg["findings"]
    assert [s["instruction"].split()[0] for s in reg["plan"]] == ["FROM", "COPY", "RUN"]
    assert warm.reference.stderr == ""


# ------------------------------------------------------------------------------ entry format


def mutations(data: bytes):
    """Every single-byte change of ``data`` to another printable byte or a control byte."""
    for i in range(len(data)):
        for b in {0x00, 0x0A, 0x20, 0x30, 0x39, 0x61, 0x7B, 0x7D, 0x22, 0x2C, data[i] ^ 1, data[i] ^ 0x20}:
            if b != data[i]:
                yield data[:i] + bytes([b]) + data[i + 1:]


def test_checked_json_rejects_every_single_byte_change():
    obj = {"digest": "sha256:" + "ab" * 32, "at": 1.5, "files": {"a": [1, 2, "x"]}, "note": "\u00e9"}
    text = cachedir.dumps_checked(obj).encode()
    assert json.loads(text)[cachedir.CHECK_KEY].startswith("sha256:")  # still plain JSON
    assert cachedir.loads_checked(text) == obj and cachedir.loads_checked(text + b"\n") == obj
    changed = list(mutations(text))
    assert all(cachedir.loads_checked(m) in (None, obj) for m in changed)
    assert sum(cachedir.loads_checked(m) is None for m in changed) > len(changed) * 0.9
    for cut in range(len(text)):
        assert cachedir.loads_checked(text[:cut]) is None
    assert cachedir.loads_checked(json.dumps(obj)) is None
    assert cachedir.loads_checked(json.dumps(obj), legacy=True) == obj
    assert cachedir.loads_checked(b"[1, 2]", legacy=True) is None
    assert cachedir.loads_checked(cachedir.dumps_checked({})) == {}


def test_sealed_bytes_reject_every_single_byte_change():
    payload = b"cc=4,\x82\xa8response\x80\x00binary\xff"
    sealed = cachedir.seal(payload)
    assert cachedir.unseal(sealed) == payload
    assert all(cachedir.unseal(m) is None for m in mutations(sealed))
    assert all(cachedir.unseal(sealed[:cut]) is None for cut in range(len(sealed)))
    assert cachedir.unseal(payload) is None and cachedir.unseal(None) is None


def test_rename_onto_a_busy_file_on_windows(tmp_path, monkeypatch):
    """On Windows a rename onto a file a reader holds open fails for a while: retried,
    then given up quietly (the entry there stays); elsewhere the refusal is an error."""
    target = tmp_path / "entry"
    target.write_bytes(b"old")
    real_replace = os.replace
    refusals = {"left": 2}

    def busy_replace(src, dst):
        if refusals["left"]:
            refusals["left"] -= 1
            raise PermissionError(errno.EACCES, "Access is denied", os.fspath(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", busy_replace)
    monkeypatch.setattr(cachedir, "_WINDOWS", True)
    cachedir.write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and refusals["left"] == 0

    refusals["left"] = 100
    cachedir.write_atomic(target, b"newer")
    assert target.read_bytes() == b"new"
    assert not temp_files(tmp_path)

    monkeypatch.setattr(cachedir, "_WINDOWS", False)
    with pytest.raises(PermissionError):
        cachedir.write_atomic(target, b"newest")
    assert target.read_bytes() == b"new" and not temp_files(tmp_path)


# ------------------------------------------------------------------------------ atomic writes


class Recorder:
    """Every open for writing, rename and replace of a path under ``root``."""

    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def __init__(self, root: Path, monkeypatch):
        self.root = str(root.resolve())
        self.opened: list[str] = []
        self.renamed: list[tuple[str, str]] = []
        real_os_open, real_open = os.open, builtins.open
        real_replace, real_rename = os.replace, os.rename

        def os_open(path, flags, *args, **kwargs):
            p = self.under(path)
            if p is not None and flags & self.WRITE_FLAGS:
                self.opened.append(p)
            return real_os_open(path, flags, *args, **kwargs)

        def py_open(file, mode="r", *args, **kwargs):
            p = self.under(file) if not isinstance(file, int) else None
            # NamedTemporaryFile passes the directory along with an opener making the file
            if p is not None and set(str(mode)) & set("wax+") and not ("opener" in kwargs and os.path.isdir(p)):
                self.opened.append(p)
            return real_open(file, mode, *args, **kwargs)

        def replace(src, dst, *args, **kwargs):
            if self.under(dst) is not None:
                self.renamed.append((self.under(src) or os.fspath(src), self.under(dst)))
            return real_replace(src, dst, *args, **kwargs)

        def rename(src, dst, *args, **kwargs):
            if self.under(dst) is not None:
                self.renamed.append((self.under(src) or os.fspath(src), self.under(dst)))
            return real_rename(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "open", os_open)
        monkeypatch.setattr(builtins, "open", py_open)
        monkeypatch.setattr(io, "open", py_open)
        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(os, "rename", rename)

    def under(self, path) -> str | None:
        try:
            p = os.fsdecode(os.fspath(path))
        except TypeError:
            return None
        p = os.path.abspath(p)
        return p if p.startswith(self.root + os.sep) else None


def run_in_process(argv: list, monkeypatch) -> int:
    from analyzer.batch import main

    monkeypatch.setattr(sys, "argv", ["analyze", *map(str, argv)])
    with pytest.raises(SystemExit) as stop:
        main()
    return stop.value.code


def test_writers_never_open_a_final_name(origin, tmp_path, monkeypatch, capsys):
    from analyzer import build, rules

    project = make_project(tmp_path, origin)
    root = tmp_path / "cache"
    monkeypatch.setenv(cachedir.ENV_VAR, str(root))
    monkeypatch.setenv("ANALYZE_DOCKER", "none")
    recorder = Recorder(root, monkeypatch)

    code = run_in_process(command(project, root, "--record")[3:], monkeypatch)
    rules._cached_rules(rules.rules_dir(), sorted(rules.rules_dir().glob("*.yaml")))
    build._save_log("step 1/2\n", project.reg, SimpleNamespace(builder="buildkit", target=None, cache_dir=str(root)))
    monkeypatch.undo()

    assert code == 1, capsys.readouterr().err
    finals = {str(p) for p in root.resolve().rglob("*") if p.is_file()}
    assert {kind_of(str(Path(p).relative_to(root.resolve()))) for p in finals} >= {
        "http", "tag", "listing", "blob", "hashes", "record", "catalog", "other",  # other: the build log
    }
    assert recorder.opened and recorder.renamed
    wrong_opens = [p for p in recorder.opened if not Path(p).name.startswith(cachedir.TEMP_PREFIX)]
    assert not wrong_opens, wrong_opens
    for src, dst in recorder.renamed:
        assert Path(src).name.startswith(cachedir.TEMP_PREFIX), (src, dst)
        assert Path(src).parent == Path(dst).parent, (src, dst)  # a rename within one directory
        assert not Path(dst).name.startswith(cachedir.TEMP_PREFIX)
    # every entry got its name from a rename of a complete temporary file, and none is left
    assert finals == {dst for _, dst in recorder.renamed}
    assert not temp_files(root)
    assert not cache_problems(root)


def test_sigkill_mid_write_leaves_only_whole_entries(tmp_path):
    """Kill the analysis while it streams a 4 MB layer into the cache (exactly mid-blob on
    even rounds, at a random moment on odd ones): every file under a final name is always a
    whole, valid entry; the partial blob exists only under a temporary name."""
    server = Origin(big=4 << 20, blob_delay=0.02)
    try:
        project = make_project(tmp_path, server)
        reference = analyze(project, tmp_path / "reference")
        cache = tmp_path / "cache"
        blob = cache / "registry" / "blobs" / "sha256" / sha(server.layer)[7:]
        listing = cache / "registry" / "listings" / f"{sha(server.layer)[7:]}.json"
        rng = random.Random(20240611)
        mid_blob_partials = 0
        for round_ in range(8):
            for path in [p for p in cache.rglob("*") if p.is_file() and not is_temp(p)]:
                if rng.random() < 0.5:
                    path.unlink()  # written again by the next run
            if round_ % 2 == 0:
                blob.unlink(missing_ok=True)
                listing.unlink(missing_ok=True)
            temps_before = set(temp_files(cache)) if cache.exists() else set()
            server.arm()
            proc = subprocess.Popen(command(project, cache), cwd=ROOT, env=environment(cache),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                if round_ % 2 == 0:
                    assert server.half_sent.wait(60), "the layer was never fetched"
                else:
                    time.sleep(rng.uniform(0.2, 3.0))
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
            assert not cache_problems(cache), f"round {round_}"
            if round_ % 2 == 0:
                assert not blob.exists()
                new = [p for p in set(temp_files(cache)) - temps_before if p.parent == blob.parent]
                assert new, "the partial layer should sit under a temporary name"
                mid_blob_partials += 1
        final = analyze(project, cache)
        assert final.stdout == reference.stdout and final.stderr == ""
        assert not cache_problems(cache)
        assert blob.exists() and listing.exists()
        print(f"{mid_blob_partials} kills mid-blob, {len(temp_files(cache))} orphaned temporary files")
    finally:
        server.stop()


# ------------------------------------------------------------------------------ damaged entries

HEX = "0123456789abcdef"
GARBAGE = b'{"version":1,"files":{},"complete":true,"added":{},"digest":"sha256:' + b"0" * 64 + b'"}\n'


def damaged(data: bytes, how: str) -> bytes:
    if how == "truncate":
        return data[: len(data) // 2]
    if how == "garbage":
        return GARBAGE
    # flip one byte in the middle; a hex digit stays a hex digit, so JSON stays valid JSON
    i = len(data) // 2
    c = chr(data[i])
    new = HEX[(HEX.index(c) + 1) % 16] if c in HEX else chr(data[i] ^ 1)
    return data[:i] + new.encode("latin-1") + data[i + 1:]


@pytest.fixture(scope="module")
def offline_cold(warm, tmp_path_factory):
    """The offline run with an empty cache: what a cache of damaged entries must amount to."""
    return analyze(warm.project, tmp_path_factory.mktemp("offline-cold") / "cache", "--offline")


@pytest.mark.parametrize("how", ["truncate", "flip", "garbage"])
def test_damaged_entries_are_never_used_and_get_replaced(warm, offline_cold, tmp_path, how):
    cache = tmp_path / "cache"
    shutil.copytree(warm.cache, cache)
    bad = {rel: damaged(data, how) for rel, data in entries(cache).items()}
    for rel, data in bad.items():
        assert data != entries(warm.cache)[rel]
        (cache / rel).write_bytes(data)
    assert len(cache_problems(cache)) == len(bad)

    # offline nothing can be fetched again: damaged entries count as absent, never as data
    offline = analyze(warm.project, cache, "--offline")
    assert offline.stdout == offline_cold.stdout
    assert offline.stderr == offline_cold.stderr
    assert offline.returncode == offline_cold.returncode

    online = analyze(warm.project, cache)
    assert online.stdout == warm.reference.stdout
    assert online.stderr == "" and online.returncode == warm.reference.returncode
    now = entries(cache)
    not_replaced = sorted(f"{kind_of(rel)} {rel}" for rel, data in bad.items() if now.get(rel) in (None, data))
    assert not not_replaced
    assert not cache_problems(cache)
    assert not temp_files(cache)


def test_damaged_build_record_counts_as_no_record(warm, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(warm.cache, cache)
    assert analyze(warm.project, cache, "--record").stdout == warm.reference.stdout
    recorded = analyze(warm.project, cache)
    plans = [f["plan"] for f in json.loads(recorded.stdout)["files"]]
    assert plans != [f["plan"] for f in json.loads(warm.reference.stdout)["files"]]
    assert all(step["prediction"] == "hit" for plan in plans for step in plan)
    records = {rel: data for rel, data in entries(cache).items() if kind_of(rel) == "record"}
    assert len(records) == 4  # a record and its key summary per Dockerfile

    # written before records had a checksum: still a record
    for rel, data in records.items():
        legacy = json.loads(data)
        del legacy[cachedir.CHECK_KEY]
        (cache / rel).write_text(json.dumps(legacy))
    assert analyze(warm.project, cache).stdout == recorded.stdout

    for how in ("flip", "truncate", "garbage"):
        for rel, data in records.items():
            (cache / rel).write_bytes(damaged(data, how))
        assert analyze(warm.project, cache).stdout == warm.reference.stdout, how
    assert analyze(warm.project, cache, "--record").returncode == warm.reference.returncode
    assert all(entries(cache)[rel] != damaged(data, "garbage") for rel, data in records.items())
    assert not cache_problems(cache)
    assert analyze(warm.project, cache).stdout == recorded.stdout


def test_damaged_redirect_memory_is_not_followed(tmp_path):
    """A remembered redirect is an entry too: flipped, it is ignored offline and relearnt."""
    from analyzer.lineage.fetch import Fetcher, OfflineMiss

    server = Origin()
    moved = {"/old/Dockerfile": "/images/base-notebook/Dockerfile"}

    real = server._answer

    def answer(h, head):
        if h.path in moved:
            return server._send(h, 301, b"", {"Location": server.url(moved[h.path])}, head=head)
        return real(h, head)

    server._answer = answer
    try:
        url = server.url("/old/Dockerfile")
        text = (UPSTREAM / "base-notebook" / "Dockerfile").read_text()
        assert Fetcher(tmp_path).get_text(url).text == text
        assert Fetcher(tmp_path, offline=True).get_text(url).text == text
        http = tmp_path / "http"
        before = {p: p.read_bytes() for p in http.rglob("*") if p.is_file()}
        assert len(before) == 3  # the 301, the remembered redirect, the target
        for p, data in before.items():
            p.write_bytes(damaged(data, "flip"))
        with pytest.raises(OfflineMiss):
            Fetcher(tmp_path, offline=True).get_text(url)
        assert Fetcher(tmp_path).get_text(url).text == text
        assert Fetcher(tmp_path, offline=True).get_text(url).text == text
        assert not cache_problems(tmp_path)
    finally:
        server.stop()


# ------------------------------------------------------------------------------ read-only and full


@pytest.fixture
def tmpfs(tmp_path):
    """mount(size) -> a fresh tmpfs directory (skips when mounting is not permitted);
    ``read_only(path)`` remounts it read-only: EROFS stops root too."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        path = tmp_path / f"fs{len(mounted)}"
        path.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            skip_unless_ci(f"cannot mount a tmpfs here: {proc.stderr.strip() or proc.returncode}")
        mounted.append(path)
        return path

    def read_only(path: Path) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True, capture_output=True)

    mount.read_only = read_only
    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def one_warning(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("analyze: warning: "), stderr
    return lines[0]


def test_read_only_warm_cache_is_read_and_warned_about_once(warm, tmpfs):
    cache = tmpfs("16m")
    shutil.copytree(warm.cache, cache, dirs_exist_ok=True)
    tmpfs.read_only(cache)
    with pytest.raises(OSError):
        (cache / "probe").write_text("x")
    before = entries(cache)
    proc = analyze(warm.project, cache)
    assert proc.stdout == warm.reference.stdout and proc.returncode == warm.reference.returncode
    assert "(Read-only file system)" in one_warning(proc.stderr)
    assert entries(cache) == before
    offline = analyze(warm.project, cache, "--offline")
    assert offline.stdout == warm.reference.stdout and offline.stderr == ""


def test_read_only_empty_cache_means_no_cache(warm, tmpfs):
    cache = tmpfs("1m")
    tmpfs.read_only(cache)
    proc = analyze(warm.project, cache)
    assert proc.stdout == warm.reference.stdout and proc.returncode == warm.reference.returncode
    assert "Read-only file system" in one_warning(proc.stderr)
    assert not list(cache.iterdir())


def test_cache_dir_under_a_file_means_no_cache(warm, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    proc = analyze(warm.project, blocker / "cache")
    assert proc.stdout == warm.reference.stdout and proc.returncode == warm.reference.returncode
    assert "Not a directory" in one_warning(proc.stderr)
    assert blocker.read_text() == "not a directory\n"


def test_full_cache_degrades_with_one_warning(warm, tmpfs):
    cache = tmpfs("64k")
    for _ in range(2):  # the second run finds what the first could store
        proc = analyze(warm.project, cache)
        assert proc.stdout == warm.reference.stdout and proc.returncode == warm.reference.returncode
        assert "No space left on device" in one_warning(proc.stderr)
        assert not cache_problems(cache)
        assert not temp_files(cache)  # a failed write takes its temporary file away
    assert entries(cache)  # what fitted was kept


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EROFS], ids=["ENOSPC", "EACCES", "EROFS"])
def test_failed_writes_in_process(warm, tmp_path, monkeypatch, capsys, code):
    """The same without mounting: every rename into the cache fails with ``code``."""
    root = (tmp_path / "cache").resolve()
    real_replace = os.replace

    def failing_replace(src, dst, *args, **kwargs):
        if os.path.abspath(os.fsdecode(os.fspath(dst))).startswith(str(root) + os.sep):
            raise OSError(code, os.strerror(code), os.fspath(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setenv(cachedir.ENV_VAR, str(root))
    monkeypatch.setenv("ANALYZE_DOCKER", "none")
    monkeypatch.setattr(os, "replace", failing_replace)
    rc = run_in_process(command(warm.project, root, "--record")[3:], monkeypatch)
    out, err = capsys.readouterr()
    assert rc == warm.reference.returncode
    assert json.loads(out) == json.loads(warm.reference.stdout)
    assert os.strerror(code) in one_warning(err)
    assert not entries(root) and not temp_files(root)
    assert cachedir.warned()


# ------------------------------------------------------------------------------ eight at once

PROCESSES = 8
COLD_ROUNDS = 3


def run_together(project: SimpleNamespace, cache: Path, n: int) -> tuple[list, float]:
    started = time.monotonic()
    procs = [
        subprocess.Popen(command(project, cache), cwd=ROOT, env=environment(cache),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(n)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append((proc.returncode, out, err))
    return results, time.monotonic() - started


def test_eight_processes_share_one_cache(origin, tmp_path):
    project = make_project(tmp_path, origin)
    started = time.monotonic()
    reference = analyze(project, tmp_path / "single")
    single = time.monotonic() - started
    timings = []
    for round_ in range(COLD_ROUNDS + 1):
        warm_round = round_ == COLD_ROUNDS
        cache = tmp_path / f"shared-{min(round_, COLD_ROUNDS - 1)}"
        results, took = run_together(project, cache, PROCESSES)
        timings.append(took)
        label = "warm" if warm_round else f"cold round {round_ + 1}"
        for rc, out, err in results:
            assert err == "", f"{label}: {err}"
            assert rc == reference.returncode, label
            assert out == reference.stdout, label
        assert not cache_problems(cache), label
        assert not temp_files(cache), label
    def written(root: Path) -> set:  # the catalog's name follows the rule files' mtimes
        return {rel for rel in entries(root) if kind_of(rel) != "catalog"}

    assert written(cache) == written(tmp_path / "single")

    before = origin.requests
    ninth = analyze(project, cache, "--offline")
    assert origin.requests == before
    assert ninth.stdout == reference.stdout and ninth.stderr == ""
    print(
        f"single run {single:.1f} s; {PROCESSES} at once: "
        + ", ".join(f"{t:.1f} s" for t in timings[:-1]) + f" cold, {timings[-1]:.1f} s warm"
    )


# ------------------------------------------------------------------------------ orphaned temporary files


def _aged(path: Path, seconds: float, data: bytes = b"partial") -> Path:
    """A file at ``path`` last written ``seconds`` ago."""
    if not path.exists():
        path.write_bytes(data)
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path


def test_temporary_files_a_killed_process_left_are_swept_once_per_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(cachedir, "_swept", set())
    d = tmp_path / "entries"
    d.mkdir()
    stale = _aged(d / f"{cachedir.TEMP_PREFIX}abc.part", cachedir.STALE_TEMP_SECONDS + 60)
    fresh = _aged(d / f"{cachedir.TEMP_PREFIX}def.part", cachedir.STALE_TEMP_SECONDS - 600)  # a writer may still be at it
    entry = _aged(d / "old-entry", 10 * cachedir.STALE_TEMP_SECONDS)
    odd = d / f"{cachedir.TEMP_PREFIX}dir.part"
    odd.mkdir()
    cachedir.write_atomic(d / "new-entry", b"data")
    assert not stale.exists() and fresh.exists() and entry.exists() and odd.is_dir()
    assert (d / "new-entry").read_bytes() == b"data"
    later = _aged(d / f"{cachedir.TEMP_PREFIX}ghi.part", cachedir.STALE_TEMP_SECONDS + 60)
    cachedir.write_atomic(d / "another", b"x")
    assert later.exists()  # this process swept the directory already
    assert sorted(p.name for p in d.iterdir() if is_temp(p) and p.is_file()) == sorted([fresh.name, later.name])
    assert cachedir.sweep_stale_temps(d) == 1 and not later.exists()
    assert cachedir.sweep_stale_temps(tmp_path / "missing") == 0


def test_a_run_sweeps_stale_temporary_files_where_it_writes(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    stale = _aged(cache / f"{cachedir.TEMP_PREFIX}killed.part", cachedir.STALE_TEMP_SECONDS + 60)
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nRUN true\n")
    proc = subprocess.run([sys.executable, "-m", "analyzer", "--offline", str(tmp_path / "Dockerfile")], capture_output=True,
                          text=True, env=environment(cache), timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    assert not stale.exists()  # the run wrote the rule catalog's cache into that directory
    assert list(cache.glob("catalog-*.marshal"))
