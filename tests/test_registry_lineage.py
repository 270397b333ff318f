"""Lineage of an image that only a registry knows: its config and its layers' listings.

The unit tests list small layer tars built in memory (gzip and plain) and apply their
whiteouts. The ``docker`` tests build a two-level chain with the real daemon, push it to the
real registry on 127.0.0.1:5000 (``tools/docker-up``), remove the local images, and analyse
a Dockerfile built FROM it.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest

from analyzer.inventory import State, Walker, lookup
from analyzer.lineage.layers import (
    LayerListing,
    RegistryImage,
    RegistryLayer,
    layer_history,
    list_layer,
    merge,
    short_history,
)
from analyzer.lineage.resolve import ImageDef

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = "127.0.0.1:5000"


# ------------------------------------------------------------------------------ layer tars


def tar_bytes(entries: list, compress: bool = False) -> bytes:
    """entries: (name, kind, mode[, target]) with kind "file", "dir", "symlink", "link"."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for entry in entries:
            name, kind, mode = entry[:3]
            info = tarfile.TarInfo(name)
            info.mode = mode
            data = b""
            if kind == "file":
                data = b"#!/bin/sh\n"
                info.size = len(data)
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = entry[3]
            elif kind == "link":
                info.type = tarfile.LNKTYPE
                info.linkname = entry[3]
            tar.addfile(info, io.BytesIO(data) if data else None)
    raw = buf.getvalue()
    return gzip.compress(raw) if compress else raw


BASE = [
    ("bin", "dir", 0o755),
    ("bin/busybox", "file", 0o755),
    ("bin/wget", "symlink", 0o777, "busybox"),
    ("bin/ls", "symlink", 0o777, "busybox"),
    ("etc/passwd", "file", 0o644),
    ("./usr/lib/tool/run", "file", 0o750),
    ("usr/lib/tool/plugin", "link", 0o755, "usr/lib/tool/run"),
    ("usr/lib/tool/data.txt", "file", 0o644),
]


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_list_layer_executables(compress):
    listing = list_layer(io.BytesIO(tar_bytes(BASE, compress)))
    assert listing.complete and listing.note == ""
    assert listing.added == {
        "/bin/busybox": "file", "/bin/wget": "symlink", "/bin/ls": "symlink",
        "/usr/lib/tool/run": "file", "/usr/lib/tool/plugin": "hardlink",
    }
    assert listing.members == len(BASE)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_whiteouts_across_layers(compress):
    lower = list_layer(io.BytesIO(tar_bytes(BASE, compress)))
    upper = list_layer(io.BytesIO(tar_bytes([
        ("bin/.wh.wget", "file", 0o644),
        ("usr/lib/tool/.wh..wh..opq", "file", 0o644),
        ("usr/lib/tool/new", "file", 0o755),
        ("opt/x/bin/x", "file", 0o700),
    ], compress)))
    assert upper.deleted == ["/bin/wget"] and upper.opaque == ["/usr/lib/tool"]
    merged = merge([lower, upper])
    # the opaque directory keeps what its own layer put there, loses the lower layers' files
    assert merged == {"/bin/busybox": 0, "/bin/ls": 0, "/usr/lib/tool/new": 1, "/opt/x/bin/x": 1}
    # a later layer brings a deleted file back; deleting a directory takes its subtree
    again = list_layer(io.BytesIO(tar_bytes([("bin/wget", "file", 0o755), (".wh.opt", "file", 0o644)], compress)))
    assert merge([lower, upper, again]) == {"/bin/busybox": 0, "/bin/ls": 0, "/usr/lib/tool/new": 1, "/bin/wget": 2}


def test_member_cap_and_unreadable_layers():
    many = [(f"bin/t{i}", "file", 0o755) for i in range(20)]
    capped = list_layer(io.BytesIO(tar_bytes(many, True)), max_members=5)
    assert not capped.complete and "more than 5 members" in capped.note
    broken = list_layer(io.BytesIO(gzip.compress(b"not a tar at all" * 100)))
    assert not broken.complete and "not a readable tar" in broken.note
    truncated = tar_bytes(many, True)[:60]
    assert not list_layer(io.BytesIO(truncated)).complete


def test_history_maps_onto_layers_and_is_shortened():
    config = {"history": [
        {"created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
        {"created_by": "/bin/sh -c #(nop)  ENV PATH=/x/bin:/usr/bin", "empty_layer": True},
        {"created_by": "COPY s /usr/local/bin/s # buildkit"},
        {"created_by": "|1 V=2 /bin/sh -c make install"},
    ]}
    texts = layer_history(config, 4)
    assert [short_history(t) for t in texts] == ["ADD file:abc in /", "COPY s /usr/local/bin/s", "RUN make install", ""]
    assert layer_history({}, 2) == ["", ""]


def _registry_image(listed: bool) -> ImageDef:
    lower = list_layer(io.BytesIO(tar_bytes(BASE)))
    upper = list_layer(io.BytesIO(tar_bytes([("bin/.wh.wget", "file", 0o644), ("opt/t/bin/t", "file", 0o755)])))
    layers = [RegistryLayer(0, "sha256:" + "a" * 64, "ADD rootfs.tar /", lower if listed else None),
              RegistryLayer(1, "sha256:" + "b" * 64, "RUN make", upper if listed else None)]
    image = RegistryImage(
        "reg.example:5000", "team/app", "sha256:" + "c" * 64,
        {"Env": ["PATH=/opt/t/bin:/usr/bin:/bin", "A=1"], "User": "app", "WorkingDir": "/srv"},
        [("ADD rootfs.tar /", False), ("ENV PATH=/opt/t/bin:/usr/bin:/bin", True), ("RUN make", False)], layers,
    )
    return ImageDef("reg.example:5000/team/app:1", "registry", "registry:reg.example:5000/team/app@sha256:" + "c" * 64, None, registry=image)


def test_walker_applies_a_listed_registry_image():
    st = Walker().apply_image(State(), _registry_image(listed=True))
    assert st.unknown_all is None
    assert st.env == {"PATH": "/opt/t/bin:/usr/bin:/bin", "A": "1"}
    assert (st.user, st.workdir) == ("app", "/srv")
    t = lookup(st, "t")
    assert t.status == "available" and t.provided_by.instruction == "RUN make"
    assert t.provided_by.via == "layer 1 " + ("sha256:" + "b" * 64)[:19]
    assert t.path_entry is not None and t.path_entry.instruction.startswith("ENV PATH=/opt/t/bin")
    wget = lookup(st, "wget")
    assert wget.status == "missing" and wget.removed_by is not None and "whiteout in layer 1" in wget.removed_by.via
    assert lookup(st, "nothing-here").status == "missing"


def test_walker_unlisted_registry_image_is_unknown_but_keeps_config():
    st = Walker().apply_image(State(), _registry_image(listed=False))
    assert st.unknown_all is not None
    assert lookup(st, "nothing-here").status == "unknown"
    assert st.env["A"] == "1" and st.user == "app" and st.workdir == "/srv"


def test_listing_json_round_trip():
    listing = list_layer(io.BytesIO(tar_bytes(BASE)))
    assert LayerListing.from_json(json.loads(json.dumps(listing.as_json()))) == listing


# ------------------------------------------------------------------------------ real registry


def analyze(*args, env=None):
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS", "ANALYZE_LAYERS")}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", *map(str, args)],
        capture_output=True, text=True, cwd=ROOT, env=full_env, timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def registry_requests(stderr: str) -> int:
    return len(re.findall(rf"^analyze: fetch: (?:GET|HEAD) http://{re.escape(REGISTRY)}/", stderr, re.M))


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    from test_scenarios import _unusable, docker, docker_problem

    problem = docker_problem()
    if problem:
        _unusable(f"Docker is not usable: {problem}")
    import urllib.request

    try:
        urllib.request.urlopen(f"http://{REGISTRY}/v2/", timeout=5).read()
    except OSError as exc:
        _unusable(f"registry {REGISTRY} is not answering ({exc})")
    uid = uuid.uuid4().hex[:12]
    script = f"lin-script-{uid}"
    one = tmp_path_factory.mktemp("level1")
    (one / script).write_text("#!/bin/sh\necho level1\n")
    (one / script).chmod(0o755)
    level1 = f"{REGISTRY}/analyze-test/lin-{uid}:0"
    level2 = f"{REGISTRY}/analyze-test/lin-{uid}:1"
    (one / "Dockerfile").write_text(
        "FROM analyze-test/busybox:1\n"
        f"COPY {script} /usr/local/bin/{script}\n"
        "ENV PATH=/opt/tool/bin:$PATH\n"
    )
    two = tmp_path_factory.mktemp("level2")
    (two / "Dockerfile").write_text(
        f"FROM {level1}\n"
        "RUN mkdir -p /opt/tool/bin && printf '#!/bin/sh\\n' > /opt/tool/bin/tool"
        " && chmod +x /opt/tool/bin/tool && rm /bin/wget\n"
    )
    try:
        docker("build", "-q", "-t", level1, str(one), buildkit="1")
        docker("push", level1)
        docker("build", "-q", "-t", level2, str(two), buildkit="1")
        docker("push", level2)
    finally:
        docker("rmi", "-f", level2, level1, check=False)
    # only the registry has them now
    assert docker("image", "inspect", level2, check=False).returncode != 0
    user = tmp_path_factory.mktemp("user")
    (user / "Dockerfile").write_text(f"FROM {level2}\nRUN {script} && nonexistent-tool && wget x\n")
    return {"uid": uid, "script": script, "image": level2, "dockerfile": user / "Dockerfile"}


@pytest.mark.docker
def test_registry_lineage_end_to_end(chain, tmp_path):
    cache = tmp_path / "cache"
    args = ("--format", "json", "--cache-dir", cache, "--explain", chain["script"], "-v", chain["dockerfile"])
    cold = analyze(*args)
    assert cold.returncode == 1, cold.stderr
    out = json.loads(cold.stdout)["files"][0]
    lineage = out["lineage"]
    assert len(lineage) == 1 and lineage[0]["kind"] == "registry", lineage
    assert lineage[0]["source"].startswith(f"registry:{REGISTRY}/analyze-test/lin-{chain['uid']}@sha256:")
    explain = out["explain"]
    assert explain["status"] == "available" and explain["path"] == f"/usr/local/bin/{chain['script']}"
    assert explain["provided_by"]["instruction"].startswith(f"COPY {chain['script']} /usr/local/bin/")
    assert re.fullmatch(r"layer \d+ sha256:[0-9a-f]{12}", explain["provided_by"]["via"])
    missing = {f["message"].split(":")[0] for f in out["findings"] if f["rule"] == "AN6001"}
    assert missing == {"nonexistent-tool", "wget"}, out["findings"]
    wget = next(f for f in out["findings"] if f["rule"] == "AN6001" and f["message"].startswith("wget"))
    assert "whiteout" in wget["message"]
    cold_requests = registry_requests(cold.stderr)
    # HEAD for the tag, the manifest, the config, and every layer
    assert cold_requests >= 4, cold.stderr

    warm = analyze(*args, "--offline")
    assert registry_requests(warm.stderr) == 0, warm.stderr
    assert "from cache" in warm.stderr
    assert json.loads(warm.stdout) == json.loads(cold.stdout)
    print(f"registry requests: cold {cold_requests}, warm (--offline) 0")


@pytest.mark.docker
def test_offline_cold_cache_stays_unresolved(chain, tmp_path):
    proc = analyze("--format", "json", "--cache-dir", tmp_path / "empty", "--offline", "-v", chain["dockerfile"])
    assert registry_requests(proc.stderr) == 0
    lineage = json.loads(proc.stdout)["files"][0]["lineage"]
    assert lineage[0]["kind"] == "unresolved"
    findings = json.loads(proc.stdout)["files"][0]["findings"]
    assert not [f for f in findings if f["rule"] == "AN6001"]
