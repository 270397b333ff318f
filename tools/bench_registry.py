#!/usr/bin/env python3
"""Benchmark: HTTP requests ``analyze`` sends to a registry, cold and warm.

Puts a three-level chain of images in a registry (level 1 from a busybox base, level 2 from
level 1, level 3 from level 2: every level's manifest lists its parent's layers plus one of
its own), places a small counting HTTP proxy in front of the registry on another 127.0.0.1
port, and runs ``analyze`` on Dockerfiles built FROM the chain through the proxy:

* cold: an empty ``--cache-dir``;
* warm: the same cache, online (tags answered from the cache for their 5 minutes);
* warm, tags expired: the same cache without its tag answers (what a later run sees);
* warm ``--offline``: the same cache, nothing may be sent.

Requests are counted per method and kind (ping, manifest by tag, manifest by digest, config
blob, layer blob) by the proxy; ``analyze -v`` counts its own too, and both are printed.

The registry, in order of preference (``--mode``):

* ``docker``: the Docker daemon (Debian's client, /usr/bin/docker, BuildKit) builds and pushes
  the chain from ``analyze-test/busybox:1`` to the registry on 127.0.0.1:5000
  (``tools/docker-up``); the local images are removed after the push;
* ``distribution``: no daemon, but the ``docker-registry`` binary (Docker's distribution):
  it is started on a free 127.0.0.1 port with a temporary storage, and the chain is pushed
  with the distribution API (layers made here, the base holding /bin/busybox when there is
  one);
* ``fake``: a minimal registry in this process, same pushes.

    python tools/bench_registry.py [--mode auto|docker|distribution|fake]
"""

from __future__ import annotations

import argparse
import collections
import gzip
import hashlib
import http.client
import http.server
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKER = "/usr/bin/docker"  # Debian's 20.10 client: DOCKER_BUILDKIT=1 without buildx (as the tests)
DOCKER_REGISTRY = "127.0.0.1:5000"
BUSYBOX_IMAGE = "analyze-test/busybox:1"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_DIGEST = r"sha256:[0-9a-f]{64}"


# -- counting proxy ---------------------------------------------------------------------------------


class CountingProxy:
    """Forwards every request to ``upstream`` and counts them by method and kind."""

    HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}

    def __init__(self, upstream: str, config_digests: set):
        self.upstream = upstream
        self.config_digests = config_digests
        self.counts: collections.Counter = collections.Counter()
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                with proxy.lock:
                    proxy.counts[(self.command, proxy.kind(self.path))] += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in proxy.HOP}
                conn = http.client.HTTPConnection(proxy.upstream, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    known_length = resp.getheader("Content-Length")
                    data = None
                    if known_length is None and self.command != "HEAD":
                        data = resp.read()
                    self.send_response(resp.status, resp.reason)
                    for k, v in resp.getheaders():
                        if k.lower() not in proxy.HOP and not (data is not None and k.lower() == "content-length"):
                            self.send_header(k, v)
                    if data is not None:
                        self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command == "HEAD":
                        return
                    if data is not None:
                        self.wfile.write(data)
                    else:
                        shutil.copyfileobj(resp, self.wfile, 1 << 16)
                finally:
                    conn.close()

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def kind(self, path: str) -> str:
        path = path.split("?", 1)[0]
        if path.rstrip("/") == "/v2":
            return "ping"
        if re.search(rf"/manifests/{_DIGEST}$", path):
            return "manifest by digest"
        if "/manifests/" in path:
            return "manifest by tag"
        match = re.search(rf"/blobs/({_DIGEST})$", path)
        if match:
            return "config blob" if match.group(1) in self.config_digests else "layer blob"
        return "other"

    def take(self) -> collections.Counter:
        with self.lock:
            counts, self.counts = self.counts, collections.Counter()
        return counts

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- registries -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(host: str) -> bool:
    try:
        urllib.request.urlopen(f"http://{host}/v2/", timeout=3).read()
        return True
    except urllib.error.HTTPError as exc:
        return exc.code == 401
    except OSError:
        return False


def _docker_usable() -> str:
    """'' when the daemon, the registry on 127.0.0.1:5000 and the busybox base are there."""
    if not os.access(DOCKER, os.X_OK):
        return f"no {DOCKER}"
    try:
        proc = subprocess.run([DOCKER, "info"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker info: {exc}"
    if proc.returncode != 0:
        return "docker info: " + (proc.stderr.strip().splitlines() or ["failed"])[-1]
    if not _answers(DOCKER_REGISTRY):
        return f"no registry on {DOCKER_REGISTRY}"
    if subprocess.run([DOCKER, "image", "inspect", BUSYBOX_IMAGE], capture_output=True).returncode != 0:
        return f"no {BUSYBOX_IMAGE} image"
    return ""


class Distribution:
    """Docker's registry binary on a free port, with a temporary storage."""

    def __init__(self, workdir: Path):
        self.host = f"127.0.0.1:{_free_port()}"
        config = workdir / "registry.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {workdir / 'storage'}\nhttp:\n  addr: {self.host}\n"
        )
        self.log = open(workdir / "registry.log", "wb")
        self.proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=self.log, stderr=self.log)
        for _ in range(100):
            if _answers(self.host):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.close()
        raise RuntimeError(f"docker-registry did not answer on {self.host} (see {workdir / 'registry.log'})")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


class FakeRegistry:
    """Enough of the distribution API for pushes and pulls, in memory."""

    def __init__(self):
        blobs: dict = {}
        manifests: dict = {}  # digest -> (body, media type)
        tags: dict = {}  # (repo, tag) -> digest
        uploads: dict = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def handle_any(self):
                path, _, query = self.path.partition("?")
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                if path.rstrip("/") == "/v2":
                    return self.reply(200, b"{}")
                m = re.fullmatch(r"/v2/(.+)/blobs/uploads/(.*)", path)
                if m and self.command == "POST":
                    key = uuid.uuid4().hex
                    uploads[key] = b""
                    return self.reply(202, headers={"Location": f"/v2/{m.group(1)}/blobs/uploads/{key}"})
                if m and self.command == "PUT":
                    digest = re.search(r"digest=(sha256%3A|sha256:)([0-9a-f]{64})", query)
                    content = uploads.pop(m.group(2), b"") + data
                    if not digest or hashlib.sha256(content).hexdigest() != digest.group(2):
                        return self.reply(400)
                    blobs["sha256:" + digest.group(2)] = content
                    return self.reply(201)
                m = re.fullmatch(r"/v2/(.+)/(manifests|blobs)/([^/]+)", path)
                if not m:
                    return self.reply(404)
                repo, kind, ref = m.groups()
                if kind == "manifests" and self.command == "PUT":
                    digest = "sha256:" + hashlib.sha256(data).hexdigest()
                    manifests[digest] = (data, self.headers.get("Content-Type", OCI_MANIFEST))
                    tags[(repo, ref)] = digest
                    return self.reply(201, headers={"Docker-Content-Digest": digest})
                if kind == "blobs":
                    if ref not in blobs:
                        return self.reply(404)
                    return self.reply(200, blobs[ref], {"Docker-Content-Digest": ref})
                digest = ref if ref.startswith("sha256:") else tags.get((repo, ref))
                if digest not in manifests:
                    return self.reply(404)
                body, media_type = manifests[digest]
                return self.reply(200, body, {"Docker-Content-Digest": digest, "Content-Type": media_type})

            do_GET = do_HEAD = do_POST = do_PUT = handle_any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- the chain ---------------------------------------------------------------------------------------


def _layer(entries: list) -> bytes:
    """A gzip layer from (name, data or None for a directory, mode[, symlink target])."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for entry in entries:
            name, data, mode = entry[:3]
            info = tarfile.TarInfo(name)
            info.mode, info.mtime = mode, 1_700_000_000
            if len(entry) > 3:
                info.type, info.linkname = tarfile.SYMTYPE, entry[3]
                tar.addfile(info)
            elif data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def _busybox_layer() -> bytes:
    binary = Path("/bin/busybox")
    applets = ["sh", "ls", "cat", "wget", "tar", "gzip", "grep", "sed", "awk", "find", "mkdir", "rm", "cp", "mv", "chmod"]
    if binary.is_file():
        data = binary.read_bytes()
        try:
            listed = subprocess.run([str(binary), "--list"], capture_output=True, text=True, timeout=10).stdout.split()
            applets = [a for a in listed if a != "busybox"] or applets
        except (OSError, subprocess.TimeoutExpired):
            pass
    else:
        data = b"#!/bin/sh\n"
    return _layer([("bin", None, 0o755), ("bin/busybox", data, 0o755)] + [(f"bin/{a}", b"", 0o777, "busybox") for a in applets])


def push_chain(host: str, repo: str, script: str) -> tuple[list, set]:
    """Push levels 1-3 over the distribution API; returns (image references, config digests)."""

    def request(method, path, data=b"", headers=None):
        url = path if path.startswith("http") else f"http://{host}{path}"
        req = urllib.request.Request(url, data=data or None, method=method, headers=headers or {})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers, resp.read()

    def put_blob(data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        try:
            request("HEAD", f"/v2/{repo}/blobs/{digest}")
            return digest
        except urllib.error.HTTPError:
            pass
        _, headers, _ = request("POST", f"/v2/{repo}/blobs/uploads/")
        location = headers["Location"]
        if not location.startswith("http"):
            location = f"http://{host}{location}"
        sep = "&" if "?" in location else "?"
        request("PUT", f"{location}{sep}digest={digest}", data, {"Content-Type": "application/octet-stream"})
        return digest

    levels = [
        ("ADD busybox rootfs /", _busybox_layer()),
        (f"COPY {script} /usr/local/bin/{script}", _layer([("usr", None, 0o755), ("usr/local", None, 0o755), ("usr/local/bin", None, 0o755),
                                                            (f"usr/local/bin/{script}", b"#!/bin/sh\necho level1\n", 0o755)])),
        ("RUN mkdir -p /opt/tool/bin && ... && rm /bin/wget", _layer([("bin", None, 0o755), ("bin/.wh.wget", b"", 0o644), ("opt", None, 0o755),
                                                                      ("opt/tool", None, 0o755), ("opt/tool/bin", None, 0o755),
                                                                      ("opt/tool/bin/tool", b"#!/bin/sh\n", 0o755)])),
        ("RUN install level3-tool", _layer([("usr", None, 0o755), ("usr/local", None, 0o755), ("usr/local/bin", None, 0o755),
                                            ("usr/local/bin/level3-tool", b"#!/bin/sh\n", 0o755)])),
    ]
    refs, configs = [], set()
    layers, history = [], []
    for level, (created_by, blob) in enumerate(levels):
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put_blob(blob), "size": len(blob)})
        history.append({"created_by": created_by})
        if level == 0:
            continue
        config = json.dumps({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/opt/tool/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": []}, "history": list(history),
        }).encode()
        config_digest = put_blob(config)
        configs.add(config_digest)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config)},
            "layers": list(layers),
        }).encode()
        request("PUT", f"/v2/{repo}/manifests/{level}", manifest, {"Content-Type": OCI_MANIFEST})
        refs.append(f"{repo}:{level}")
    return refs, configs


def docker_chain(repo: str, script: str, workdir: Path) -> tuple[list, set]:
    """Build and push levels 1-3 with the daemon (the local images are removed after)."""

    def docker(*args):
        proc = subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "DOCKER_BUILDKIT": "1", "DOCKER_CLI_HINTS": "false"})
        if proc.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)}: {proc.stderr.strip()[-500:]}")

    steps = [
        (f"FROM {BUSYBOX_IMAGE}\nCOPY {script} /usr/local/bin/{script}\nENV PATH=/opt/tool/bin:$PATH\n", True),
        ("FROM {parent}\nRUN mkdir -p /opt/tool/bin && printf '#!/bin/sh\\n' > /opt/tool/bin/tool && chmod +x /opt/tool/bin/tool && rm /bin/wget\n", False),
        ("FROM {parent}\nRUN printf '#!/bin/sh\\n' > /usr/local/bin/level3-tool && chmod +x /usr/local/bin/level3-tool\n", False),
    ]
    refs, parent = [], None
    for level, (text, needs_script) in enumerate(steps, 1):
        ctx = workdir / f"level{level}"
        ctx.mkdir()
        if needs_script:
            (ctx / script).write_text("#!/bin/sh\necho level1\n")
            (ctx / script).chmod(0o755)
        (ctx / "Dockerfile").write_text(text.format(parent=parent))
        image = f"{DOCKER_REGISTRY}/{repo}:{level}"
        docker("build", "-q", "-t", image, str(ctx))
        docker("push", image)
        refs.append(f"{repo}:{level}")
        parent = image
    subprocess.run([DOCKER, "rmi", "-f", *(f"{DOCKER_REGISTRY}/{r}" for r in refs)], capture_output=True)
    configs = set()
    for ref in refs:
        name, tag = ref.rsplit(":", 1)
        req = urllib.request.Request(f"http://{DOCKER_REGISTRY}/v2/{name}/manifests/{tag}", headers={
            "Accept": f"{OCI_MANIFEST}, application/vnd.docker.distribution.manifest.v2+json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            configs.add(json.loads(resp.read())["config"]["digest"])
    return refs, configs


# -- running analyze ---------------------------------------------------------------------------------


def analyze(dockerfile: Path, cache: Path, *extra: str) -> tuple[dict, int, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "ANALYZE_LAYERS")}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "analyzer", "--format", "json", "--cache-dir", str(cache), "-v", *extra, str(dockerfile)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"analyze exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    own = len(re.findall(r"^analyze: fetch: (?:GET|HEAD|POST|PUT) http://", proc.stderr, re.M))
    return json.loads(proc.stdout)["files"][0], own, seconds


KINDS = ["ping", "manifest by tag", "manifest by digest", "config blob", "layer blob", "other"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=["auto", "docker", "distribution", "fake"], default="auto")
    args = ap.parse_args()

    mode = args.mode
    why_not_docker = _docker_usable() if mode in ("auto", "docker") else "not asked for"
    if mode == "docker" and why_not_docker:
        print(f"docker mode impossible: {why_not_docker}", file=sys.stderr)
        return 2
    if mode == "auto":
        mode = "docker" if not why_not_docker else ("distribution" if shutil.which("docker-registry") else "fake")
    workdir = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    registry = None
    proxy = None
    try:
        uid = uuid.uuid4().hex[:10]
        repo = f"analyze-bench/chain-{uid}"
        script = f"lin-script-{uid}"
        if mode == "docker":
            upstream = DOCKER_REGISTRY
            refs, configs = docker_chain(repo, script, workdir)
            what = f"Docker daemon, registry {DOCKER_REGISTRY}, chain built from {BUSYBOX_IMAGE}"
        else:
            registry = Distribution(workdir) if mode == "distribution" else FakeRegistry()
            upstream = registry.host
            refs, configs = push_chain(upstream, repo, script)
            what = ("docker-registry (distribution 2.x) on " if mode == "distribution" else "in-process fake registry on ") + upstream
            if args.mode == "auto":
                what += f"; Docker not used: {why_not_docker}"
        proxy = CountingProxy(upstream, configs)
        print(f"registry: {what}")
        print(f"proxy: {proxy.address} -> {upstream}; chain {', '.join(refs)}")

        single = workdir / "single" / "Dockerfile"
        single.parent.mkdir()
        single.write_text(f"FROM {proxy.address}/{refs[-1]}\nRUN {script} && tool && level3-tool && wget -q x && no-such-tool\n")
        stages = workdir / "stages" / "Dockerfile"
        stages.parent.mkdir()
        stages.write_text("".join(f"FROM {proxy.address}/{ref} AS l{i + 1}\nRUN {script}\n" for i, ref in enumerate(refs)))

        rows = []
        for name, dockerfile in (("FROM level 3", single), ("3 stages FROM levels 1, 2, 3", stages)):
            cache = workdir / f"cache-{len(rows)}"
            results = []
            for run, extra, before in (
                ("cold", (), None),
                ("warm", (), None),
                ("warm, tags expired", (), lambda: shutil.rmtree(cache / "registry" / "tags", ignore_errors=True)),
                ("warm --offline", ("--offline",), None),
            ):
                if before:
                    before()
                proxy.take()
                out, own, seconds = analyze(dockerfile, cache, *extra)
                counts = proxy.take()
                results.append(out)
                rows.append((name, run, counts, own, seconds, out))
            same = all(json.dumps(r, sort_keys=True) == json.dumps(results[0], sort_keys=True) for r in results)
            rows.append((name, "same result cold/warm/offline", same, None, None, None))

        header = f"{'Dockerfile':<30} {'run':<20} " + " ".join(f"{k:>9}" for k in ("total", "HEAD tag", "GET tag", "GET man", "config", "layers", "other")) + f" {'analyze -v':>10} {'s':>6}"
        print(header)
        for name, run, counts, own, seconds, out in rows:
            if own is None:
                print(f"{name:<30} {run:<20} {'yes' if counts else 'NO'}")
                continue
            total = sum(counts.values())
            cols = [
                total,
                counts[("HEAD", "manifest by tag")],
                counts[("GET", "manifest by tag")],
                counts[("GET", "manifest by digest")],
                counts[("GET", "config blob")],
                counts[("GET", "layer blob")],
                total - sum(counts[(m, k)] for m, k in (("HEAD", "manifest by tag"), ("GET", "manifest by tag"),
                                                         ("GET", "manifest by digest"), ("GET", "config blob"), ("GET", "layer blob"))),
            ]
            print(f"{name:<30} {run:<20} " + " ".join(f"{c:>9}" for c in cols) + f" {own:>10} {seconds:6.2f}")
        first = rows[0][5]
        lineage = first["lineage"][0]
        missing = sorted(f["message"].split(":")[0] for f in first["findings"] if f["rule"] == "AN6001")
        print(f"lineage: {lineage['kind']} ({lineage.get('note', '')}); AN6001 missing: {', '.join(missing) or 'none'}")
    finally:
        if proxy is not None:
            proxy.close()
        if registry is not None:
            registry.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
