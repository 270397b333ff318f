"""The OCI distribution client against real servers.

A threaded HTTP server on 127.0.0.1 (pytest-httpserver) plays a registry that wants Bearer
tokens and redirects blob GETs to a second server (the "CDN", another port: another origin).
The ``docker`` tests push a freshly built image to the real registry on 127.0.0.1:5000
(``tools/docker-up``) and read it back.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import tarfile
import time
import uuid
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from analyzer.lineage.registry import (
    MEDIA_DOCKER_MANIFEST,
    MEDIA_OCI_INDEX,
    MEDIA_OCI_MANIFEST,
    Registry,
    RegistryError,
    parse_challenges,
)
from analyzer.model import AnalyzerError
from conftest import started_http_servers

REPO = "a/b"
TOKEN = "tok-123"
PASSWORD = "s3cret-pass"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class FakeRegistry:
    """Blobs and manifests by digest, tags, Bearer auth, blob redirects to the CDN."""

    def __init__(self, server: HTTPServer, cdn: HTTPServer):
        self.server, self.cdn = server, cdn
        self.host = f"127.0.0.1:{server.port}"
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, tuple[bytes, str]] = {}
        self.tags: dict[str, str] = {}
        self.challenge = (
            f'Basic realm="registry, with a comma", '
            f'Bearer realm="http://{self.host}/token",service="x",scope="repository:{REPO}:pull"'
        )
        self.token_key = "token"
        self.token_requests: list = []
        self.registry_requests: list = []
        self.cdn_requests: list = []
        self.throttle = 0  # answer this many requests with 429 first
        self.tamper: set[str] = set()  # digests served with wrong content
        self.basic = "-"  # an accepted "Basic ..." value
        server.expect_request(re.compile("/.*")).respond_with_handler(self.handle)
        cdn.expect_request(re.compile("/.*")).respond_with_handler(self.handle_cdn)

        self.layer = layer_tar({"etc/hello.txt": b"hello\n", "usr/bin/tool": b"#!/bin/sh\n"})
        self.add_blob(self.layer)
        self.config_body = json.dumps({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/usr/bin", "MARK=1"]},
            "history": [{"created_by": "RUN make-things"}, {"created_by": "ENV MARK=1", "empty_layer": True}],
            "rootfs": {"type": "layers", "diff_ids": [sha(gzip.decompress(self.layer))]},
        }).encode()
        self.add_blob(self.config_body)
        self.amd64 = self.add_manifest({
            "schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(self.config_body), "size": len(self.config_body)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(self.layer), "size": len(self.layer)}],
        }, MEDIA_OCI_MANIFEST)
        self.arm64 = self.add_manifest({"schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST, "config": {"digest": sha(b"{}"), "size": 2}, "layers": []}, MEDIA_OCI_MANIFEST)
        self.attestation = self.add_manifest({"schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST, "config": {"digest": sha(b"{}"), "size": 2}, "layers": []}, MEDIA_OCI_MANIFEST)
        self.index = self.add_manifest({
            "schemaVersion": 2, "mediaType": MEDIA_OCI_INDEX,
            "manifests": [
                {"mediaType": MEDIA_OCI_MANIFEST, "digest": self.attestation, "size": 1,
                 "platform": {"os": "unknown", "architecture": "unknown"},
                 "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
                {"mediaType": MEDIA_OCI_MANIFEST, "digest": self.arm64, "size": 1, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                {"mediaType": MEDIA_OCI_MANIFEST, "digest": self.amd64, "size": 1, "platform": {"os": "linux", "architecture": "amd64"}},
            ],
        }, MEDIA_OCI_INDEX)
        self.tags["1"] = self.index
        self.tags["single"] = self.amd64

    def add_blob(self, data: bytes) -> str:
        self.blobs[sha(data)] = data
        return sha(data)

    def add_manifest(self, doc: dict, media_type: str) -> str:
        body = json.dumps(doc).encode()
        self.manifests[sha(body)] = (body, media_type)
        return sha(body)

    def ref(self, tag: str = "1") -> str:
        return f"{self.host}/{REPO}:{tag}"

    def handle(self, request):
        if request.path == "/token":
            self.token_requests.append(request)
            return Response(json.dumps({self.token_key: TOKEN, "expires_in": 300}), content_type="application/json")
        self.registry_requests.append(request)
        if self.throttle:
            self.throttle -= 1
            return Response("slow down", status=429, headers={"Retry-After": "30"})
        if request.headers.get("Authorization") not in (f"Bearer {TOKEN}", self.basic):
            return Response("", status=401, headers={"WWW-Authenticate": self.challenge})
        match = re.fullmatch(rf"/v2/{REPO}/(manifests|blobs)/(.+)", request.path)
        if not match:
            return Response("", status=404)
        kind, ref = match.groups()
        if kind == "blobs":
            if ref not in self.blobs:
                return Response("", status=404)
            return Response("", status=307, headers={"Location": self.cdn.url_for(f"/cdn/{ref}")})
        digest = self.tags.get(ref, ref)
        if digest not in self.manifests:
            return Response("", status=404)
        body, media_type = self.manifests[digest]
        if digest in self.tamper:
            body = body.replace(b"schemaVersion", b"schemaversion")
        headers = {"Docker-Content-Digest": digest}
        if request.method == "HEAD":
            return Response(b"", headers={**headers, "Content-Type": media_type, "Content-Length": str(len(body))})
        return Response(body, content_type=media_type, headers=headers)

    def handle_cdn(self, request):
        self.cdn_requests.append(request)
        digest = request.path.rpartition("/")[2]
        data = self.blobs.get(digest)
        if data is None:
            return Response("", status=404)
        if digest in self.tamper:
            data = data[:-1] + bytes([data[-1] ^ 1])
        return Response(data, content_type="application/octet-stream")


@pytest.fixture(scope="module")
def servers():
    yield from started_http_servers(2)


@pytest.fixture
def fake(servers):
    for server in servers:
        server.clear()
    return FakeRegistry(*servers)


@pytest.fixture
def no_config(tmp_path):
    return tmp_path / "no-docker-config.json"


def client(tmp_path, no_config, **kw) -> Registry:
    kw.setdefault("docker_config", no_config)
    return Registry(tmp_path / "cache", **kw)


# ------------------------------------------------------------------------------ token flow


def test_bearer_flow_resolves_index_to_platform_manifest(fake, tmp_path, no_config):
    reg = client(tmp_path, no_config)
    resolved = reg.resolve(fake.ref())
    assert resolved.digest == fake.index
    assert resolved.index_digest == fake.index
    assert resolved.manifest_digest == fake.amd64
    assert resolved.config.digest == sha(fake.config_body)
    assert [(d.digest, d.size, d.media_type) for d in resolved.layers] == [
        (sha(fake.layer), len(fake.layer), "application/vnd.oci.image.layer.v1.tar+gzip")
    ]
    # the tag was resolved with HEAD, everything else fetched by digest
    methods = [(r.method, r.path.rpartition("/")[2]) for r in fake.registry_requests if r.headers.get("Authorization")]
    assert methods[0] == ("HEAD", "1")
    assert ("GET", fake.attestation) not in methods
    accept = fake.registry_requests[0].headers["Accept"]
    for media in ("oci.image.index", "manifest.list.v2", "oci.image.manifest", "distribution.manifest.v2"):
        assert media in accept
    # one token request, with the challenge's service and scope
    assert len(fake.token_requests) == 1
    query = parse_qs(fake.token_requests[0].query_string.decode())
    assert query == {"service": ["x"], "scope": [f"repository:{REPO}:pull"]}
    assert "Authorization" not in fake.token_requests[0].headers
    assert reg.requests_made == len(fake.registry_requests) + len(fake.token_requests)


def test_token_is_cached_and_access_token_is_accepted(fake, tmp_path, no_config):
    fake.token_key = "access_token"
    reg = client(tmp_path, no_config)
    reg.resolve(fake.ref())
    reg.resolve(fake.ref("single"))
    assert len(fake.token_requests) == 1
    # the second resolve sent the token straight away: no 401 in between
    statuses = [line for line in reg.log if ": 401" in line]
    assert len(statuses) == 1


def test_platform_choice_and_attestations_skipped(fake, tmp_path, no_config):
    arm = client(tmp_path, no_config, platform="linux/arm64/v8").resolve(fake.ref())
    assert arm.manifest_digest == fake.arm64
    with pytest.raises(RegistryError) as err:
        client(tmp_path, no_config, platform="linux/s390x").resolve(fake.ref())
    assert "linux/s390x" in str(err.value)
    assert "available: linux/amd64, linux/arm64/v8" in str(err.value)
    assert "unknown" not in str(err.value)


def test_config_and_blob_through_cdn_redirect_without_authorization(fake, tmp_path, no_config):
    reg = client(tmp_path, no_config)
    resolved = reg.resolve(fake.ref())
    config = reg.config(resolved)
    assert config["history"][0]["created_by"] == "RUN make-things"
    assert config["rootfs"]["diff_ids"] == [sha(gzip.decompress(fake.layer))]
    with reg.open_blob(resolved, resolved.layers[0].digest) as blob:
        with tarfile.open(fileobj=blob, mode="r|*") as tar:
            names = [member.name for member in tar]
    assert names == ["etc/hello.txt", "usr/bin/tool"]
    assert blob.verified
    assert fake.cdn_requests, "blob GETs must have gone to the CDN"
    for request in fake.cdn_requests:
        assert "Authorization" not in request.headers
    blob_requests = [r for r in fake.registry_requests if "/blobs/" in r.path and r.headers.get("Authorization")]
    assert blob_requests, "the registry itself got the token"
    cached = tmp_path / "cache" / "registry" / "blobs" / "sha256" / resolved.layers[0].digest[7:]
    assert cached.read_bytes() == fake.layer
    before = reg.requests_made
    with reg.open_blob(f"{fake.host}/{REPO}", resolved.layers[0].digest) as blob:
        assert blob.read() == fake.layer
    assert reg.requests_made == before


def test_docker_config_credentials_go_to_token_realm_only(fake, tmp_path):
    config = tmp_path / "config.json"
    auth = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    config.write_text(json.dumps({"auths": {fake.host: {"auth": auth}}}))
    reg = Registry(tmp_path / "cache", docker_config=config)
    resolved = reg.resolve(fake.ref())
    with reg.open_blob(resolved, resolved.layers[0].digest) as blob:
        blob.read()
    assert fake.token_requests[0].headers["Authorization"] == f"Basic {auth}"
    assert fake.cdn_requests and all("Authorization" not in r.headers for r in fake.cdn_requests)
    assert PASSWORD not in "\n".join(reg.log) and auth not in "\n".join(reg.log)


def test_basic_challenge_uses_docker_config(fake, tmp_path):
    config = tmp_path / "config.json"
    auth = base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
    config.write_text(json.dumps({"auths": {f"http://{fake.host}/v2/": {"auth": auth}}}))
    fake.challenge = 'Basic realm="private"'
    fake.basic = f"Basic {auth}"
    reg = Registry(tmp_path / "cache", docker_config=config)
    assert reg.resolve(fake.ref("single")).manifest_digest == fake.amd64
    seen = [r.headers.get("Authorization") for r in fake.registry_requests]
    assert seen[:2] == [None, f"Basic {auth}"]
    assert not fake.token_requests
    without = Registry(tmp_path / "other", docker_config=tmp_path / "missing.json")
    with pytest.raises(RegistryError, match="authentication required"):
        without.resolve(fake.ref("single"))


def test_bearer_challenge_without_realm_is_a_clear_error(fake, tmp_path, no_config):
    fake.challenge = 'Bearer service="x",scope="repository:a/b:pull"'
    with pytest.raises(RegistryError, match="names no realm") as err:
        client(tmp_path, no_config).resolve(fake.ref())
    assert isinstance(err.value, AnalyzerError)
    assert "\n" not in str(err.value)


def test_429_is_retried_after_a_capped_wait(fake, tmp_path, no_config):
    fake.throttle = 2
    reg = client(tmp_path, no_config, max_retry_after=0.1)
    start = time.monotonic()
    assert reg.resolve(fake.ref("single")).manifest_digest == fake.amd64
    assert time.monotonic() - start < 5
    assert sum("429, retrying in 0.1 s" in line for line in reg.log) == 2


def test_429_forever_gives_up(fake, tmp_path, no_config):
    fake.throttle = 100
    reg = client(tmp_path, no_config, max_retry_after=0.01, retries=2)
    with pytest.raises(RegistryError, match="429 after 2 retries"):
        reg.resolve(fake.ref("single"))
    assert len(fake.registry_requests) == 3


def test_digest_mismatch_is_an_error_and_not_cached(fake, tmp_path, no_config):
    reg = client(tmp_path, no_config)
    fake.tamper.add(fake.amd64)
    with pytest.raises(RegistryError, match="does not match its digest"):
        reg.resolve(fake.ref("single"))
    blobs = tmp_path / "cache" / "registry" / "blobs" / "sha256"
    assert not (blobs / fake.amd64[7:]).exists()
    fake.tamper = {sha(fake.layer)}
    with pytest.raises(RegistryError, match="does not match its digest"):
        with reg.open_blob(fake.ref(), sha(fake.layer)) as blob:
            blob.read(10)
    assert not (blobs / sha(fake.layer)[7:]).exists()
    assert not [p for p in blobs.iterdir() if p.name.startswith(".tmp")]


def test_corrupt_cached_blob_is_detected_and_refetched(fake, tmp_path, no_config):
    reg = client(tmp_path, no_config)
    resolved = reg.resolve(fake.ref())
    reg.config(resolved)
    cached = tmp_path / "cache" / "registry" / "blobs" / "sha256" / resolved.config.digest[7:]
    cached.write_bytes(b'{"history": []}')
    before = reg.requests_made
    assert reg.config(resolved)["history"][0]["created_by"] == "RUN make-things"
    assert reg.requests_made > before
    assert any("corrupt" in line for line in reg.log)
    assert cached.read_bytes() == fake.config_body


def test_offline_without_cache_sends_nothing(fake, tmp_path, no_config):
    reg = client(tmp_path, no_config, offline=True)
    with pytest.raises(RegistryError, match=r"not in cache \(offline\)"):
        reg.resolve(fake.ref())
    with pytest.raises(RegistryError, match=r"not in cache \(offline\)"):
        reg.open_blob(fake.ref(), sha(fake.layer))
    assert reg.requests_made == 0
    assert not fake.registry_requests and not fake.token_requests


def test_offline_with_cache_sends_nothing(fake, tmp_path, no_config):
    online = client(tmp_path, no_config)
    resolved = online.resolve(fake.ref())
    online.config(resolved)
    with online.open_blob(resolved, resolved.layers[0].digest) as blob:
        blob.read()
    seen = len(fake.registry_requests) + len(fake.cdn_requests) + len(fake.token_requests)
    offline = client(tmp_path, no_config, offline=True)
    again = offline.resolve(fake.ref())
    assert again == resolved
    assert offline.config(again)["os"] == "linux"
    with offline.open_blob(again, again.layers[0].digest) as blob:
        assert blob.read() == fake.layer
    assert offline.requests_made == 0
    assert len(fake.registry_requests) + len(fake.cdn_requests) + len(fake.token_requests) == seen


def test_tag_answers_are_reused_briefly(fake, tmp_path, no_config):
    reg = client(tmp_path, no_config)
    reg.resolve(fake.ref())
    heads = sum(r.method == "HEAD" for r in fake.registry_requests)
    fresh = client(tmp_path, no_config)
    fresh.resolve(fake.ref())
    assert fresh.requests_made == 0
    stale = client(tmp_path, no_config, tag_ttl=0)
    fake.tags["1"] = fake.amd64  # the tag moved
    assert stale.resolve(fake.ref()).manifest_digest == fake.amd64
    assert stale.resolve(fake.ref()).index_digest is None
    assert sum(r.method == "HEAD" for r in fake.registry_requests) > heads


def test_unknown_tag_is_not_found(fake, tmp_path, no_config):
    with pytest.raises(RegistryError, match=r"not found \(404\)"):
        client(tmp_path, no_config).resolve(fake.ref("nope"))


def test_unreachable_registry_is_one_line(tmp_path, no_config):
    reg = client(tmp_path, no_config, timeout=(1, 1))
    with pytest.raises(RegistryError, match="cannot reach") as err:
        reg.resolve("127.0.0.1:9/x/y:1")
    assert "\n" not in str(err.value)


def test_invalid_reference_and_platform():
    with pytest.raises(RegistryError, match="invalid image reference"):
        Registry(None).resolve("UPPER/Case:x")
    with pytest.raises(RegistryError, match="invalid platform"):
        Registry(None, platform="amd64")


# ------------------------------------------------------------------------------ units


def test_scheme_per_host():
    reg = Registry(None, insecure_registries=["registry.lan:5000"])
    assert reg._base("localhost:5000") == "http://localhost:5000"
    assert reg._base("127.0.0.2:5000") == "http://127.0.0.2:5000"
    assert reg._base("[::1]:5000") == "http://[::1]:5000"
    assert reg._base("registry.lan:5000") == "http://registry.lan:5000"
    assert reg._base("registry.lan") == "https://registry.lan"
    assert reg._base("quay.io") == "https://quay.io"
    from analyzer.images import parse_ref

    assert parse_ref("ubuntu").api_host == "registry-1.docker.io"


def test_parse_challenges_generic():
    header = ('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push", '
              'Basic realm="x, y"')
    first, second = parse_challenges(header)
    assert first.scheme == "bearer"
    assert dict(first.params) == {"realm": "https://auth.example/token", "service": "reg", "scope": "repository:a/b:pull,push"}
    assert second.scheme == "basic" and second.params["realm"] == "x, y"
    assert [c.scheme for c in parse_challenges("Basic dXNlcg==, Bearer realm=tok")] == ["basic", "bearer"]
    assert parse_challenges('Bearer realm="a\\"b"')[0].params["realm"] == 'a"b'
    assert parse_challenges("") == []


# ------------------------------------------------------------------------------ real registry


@pytest.fixture(scope="module")
def pushed(tmp_path_factory):
    from test_scenarios import _unusable, docker, docker_problem

    problem = docker_problem()
    if problem:
        _unusable(f"Docker is not usable: {problem}")
    import urllib.request

    try:
        urllib.request.urlopen("http://127.0.0.1:5000/v2/", timeout=5).read()
    except OSError as exc:
        _unusable(f"registry 127.0.0.1:5000 is not answering ({exc})")
    uid = uuid.uuid4().hex[:12]
    ctx = tmp_path_factory.mktemp("regctx")
    (ctx / "payload.txt").write_text(f"payload {uid}\n")
    (ctx / "Dockerfile").write_text(
        "FROM analyze-test/busybox:1\n"
        f"ENV REGTEST_MARK={uid}\n"
        f"COPY payload.txt /opt/payload-{uid}.txt\n"
        f"RUN echo {uid} > /made-{uid}\n"
    )
    tag = f"127.0.0.1:5000/analyze-test/regtest:{uid}"
    docker("build", "-q", "-t", tag, str(ctx), buildkit="1")
    try:
        docker("push", tag)
        yield tag, uid
    finally:
        docker("rmi", "-f", tag, check=False)


@pytest.mark.docker
def test_real_registry_resolve_config_and_layer(pushed, tmp_path):
    tag, uid = pushed
    reg = Registry(tmp_path / "cache", docker_config=tmp_path / "none.json")
    resolved = reg.resolve(tag)
    assert resolved.media_type in (MEDIA_DOCKER_MANIFEST, MEDIA_OCI_MANIFEST)
    assert resolved.manifest_digest == resolved.digest
    assert resolved.layers and all(d.size > 0 for d in resolved.layers)
    config = reg.config(resolved)
    created = [h.get("created_by", "") for h in config["history"]]
    assert any(f"echo {uid} > /made-{uid}" in line for line in created), created
    assert any(f"REGTEST_MARK={uid}" in line for line in created), created
    assert f"REGTEST_MARK={uid}" in config["config"]["Env"]
    assert len(config["rootfs"]["diff_ids"]) == len(resolved.layers)
    found = []
    for layer in resolved.layers:
        with reg.open_blob(resolved, layer.digest, size=layer.size) as blob:
            with tarfile.open(fileobj=blob, mode="r|*") as tar:
                found += [m.name for m in tar]
        assert blob.verified
    assert f"opt/payload-{uid}.txt" in found
    assert f"made-{uid}" in found
    # everything is cached now: an offline client gets the same answers without a request
    offline = Registry(tmp_path / "cache", offline=True, docker_config=tmp_path / "none.json")
    assert offline.resolve(tag) == resolved
    assert offline.config(resolved) == config
    assert offline.requests_made == 0
