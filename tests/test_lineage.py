"""Lineage end to end: the sample upstream chain served by a real HTTP server on 127.0.0.1."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sample_dockerfiles" / "jupyter-kaggle" / "Dockerfile"
UPSTREAM = ROOT / "sample_dockerfiles" / "upstream" / "images"


def run(*args, cwd=None, env=None, timeout=120):
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", *map(str, args)],
        capture_output=True, text=True, cwd=cwd or ROOT, env=full_env, timeout=timeout,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture
def upstream(httpserver):
    """Serve the sample chain; returns (server, base URL)."""
    for image_dir in UPSTREAM.iterdir():
        for f in image_dir.iterdir():
            httpserver.expect_request(f"/images/{image_dir.name}/{f.name}").respond_with_data(
                f.read_text(), content_type="text/plain", headers={"ETag": f'"{hash(f.read_text()) & 0xffffffff:x}"'}
            )
    return httpserver, httpserver.url_for("/images")


def write_catalog(tmp_path, base_url, extra=""):
    cat = tmp_path / "catalog.yaml"
    cat.write_text(
        "images:\n"
        f"{extra}"
        '  - image: "quay.io/jupyter/*"\n'
        f"    dockerfile: {base_url}/{{name}}/Dockerfile\n"
        '  - image: "jupyter/*"\n'
        f"    dockerfile: {base_url}/{{name}}/Dockerfile\n"
        "    build_args: {REGISTRY: docker.io}\n"
    )
    return cat


def analyze_json(*args, cache):
    proc = run("--format", "json", "--cache-dir", cache, *args)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["files"][0], proc


def line_of(image, needle):
    text = (UPSTREAM / image / "Dockerfile").read_text().splitlines()
    return next(i for i, ln in enumerate(text, start=1) if needle in ln)


def test_chain_and_sources(upstream, tmp_path):
    server, base = upstream
    cat = write_catalog(tmp_path, base)
    entry, _ = analyze_json("--catalog", cat, SEED, cache=tmp_path / "cache")
    images = [e["image"] for e in entry["lineage"]]
    assert images == [
        "jupyter/scipy-notebook:latest",
        "jupyter/minimal-notebook:latest",
        "jupyter/base-notebook:latest",
        "jupyter/docker-stacks-foundation:latest",
        "ubuntu:24.04",
    ]
    for a, b in zip(entry["lineage"], entry["lineage"][1:]):
        assert a["parent"] == b["image"]
    assert entry["lineage"][0]["source"] == f"{base}/scipy-notebook/Dockerfile"
    assert entry["lineage"][-1]["source"] == "builtin"
    assert not [f for f in entry["findings"] if f["rule"].startswith("AN6")]


def test_explain_conda_wget_and_helper_script(upstream, tmp_path):
    server, base = upstream
    cat = write_catalog(tmp_path, base)
    foundation = f"{base}/docker-stacks-foundation/Dockerfile"
    entry, _ = analyze_json("--catalog", cat, "--explain", "conda", SEED, cache=tmp_path / "c")
    ex = entry["explain"]
    assert ex["status"] == "available" and ex["path"] == "/opt/conda/bin/conda"
    assert ex["provided_by"]["source"] == foundation
    assert ex["provided_by"]["line"] == line_of("docker-stacks-foundation", "RUN wget --progress")
    assert ex["provided_by"]["image"] == "jupyter/docker-stacks-foundation:latest"
    assert ex["path_entry"]["line"] == line_of("docker-stacks-foundation", 'ENV PATH="${CONDA_DIR}/bin')
    assert ex["path_entry"]["instruction"].startswith("ENV PATH=")

    entry, _ = analyze_json("--catalog", cat, "--explain", "wget", SEED, cache=tmp_path / "c")
    ex = entry["explain"]
    assert ex["status"] == "available" and ex["path"] == "/usr/bin/wget"
    assert ex["provided_by"]["line"] == line_of("docker-stacks-foundation", "RUN apt-get update")

    entry, _ = analyze_json("--catalog", cat, "--explain", "fix-permissions", SEED, cache=tmp_path / "c")
    ex = entry["explain"]
    assert ex["status"] == "available" and ex["path"] == "/usr/local/bin/fix-permissions"
    assert ex["provided_by"]["line"] == line_of("docker-stacks-foundation", "COPY fix-permissions")


def test_explain_text_output(upstream, tmp_path):
    server, base = upstream
    cat = write_catalog(tmp_path, base)
    proc = run("--cache-dir", tmp_path / "c", "--catalog", cat, "--explain", "conda", SEED)
    assert "conda: available" in proc.stdout
    assert "jupyter/scipy-notebook:latest <- jupyter/minimal-notebook:latest" in proc.stdout
    assert f"docker-stacks-foundation/Dockerfile:{line_of('docker-stacks-foundation', 'RUN wget --progress')}" in proc.stdout


def _user_file(tmp_path, body):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM jupyter/scipy-notebook:2024-01-01\n" + body)
    return df


TOOLS = (
    "FROM debian:bookworm-slim\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && \\\n"
    "    rm -rf /var/lib/apt/lists/*\n"
    "USER 1000\n"
)


@pytest.fixture
def tools_chain(upstream, tmp_path):
    """The jupyter sample plus a two-level chain without conda: example.test/tools -> debian."""
    server, base = upstream
    server.expect_request("/tools/Dockerfile").respond_with_data(TOOLS, content_type="text/plain")
    extra = f"  - image: example.test/tools\n    dockerfile: {server.url_for('/tools/Dockerfile')}\n"
    return write_catalog(tmp_path, base, extra)


def test_missing_tool_in_chain(tools_chain, tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM example.test/tools:1\nUSER root\nRUN curl -fsSLO https://example.com/a && \\\n    jq . a\n")
    entry, _ = analyze_json("--catalog", tools_chain, df, cache=tmp_path / "c")
    missing = [f for f in entry["findings"] if f["rule"] == "AN6001"]
    assert [(f["line"], f["column"]) for f in missing] == [(4, 5)]
    assert "apt-get install jq" in missing[0]["message"]
    assert [e["image"] for e in entry["lineage"]] == ["example.test/tools:1", "debian:bookworm-slim"]


def test_conda_on_path_makes_unlisted_tools_unknown_not_missing(upstream, tmp_path):
    """Precision first: /opt/conda/bin may hold executables nobody listed (conda packages
    bring their dependencies), so a tool the chain does not list is unknown there."""
    server, base = upstream
    cat = write_catalog(tmp_path, base)
    df = _user_file(tmp_path, "USER root\nRUN apt-get update && jq --version\n")
    entry, _ = analyze_json("--catalog", cat, "--explain", "jq", df, cache=tmp_path / "c")
    assert not [f for f in entry["findings"] if f["rule"] == "AN6001"]
    ex = entry["explain"]
    assert ex["status"] == "unknown" and "/opt/conda/bin" in ex["reason"]
    assert ex["packages"][0]["install"] == "apt-get install jq"


def test_apt_get_without_user_root(upstream, tmp_path):
    server, base = upstream
    cat = write_catalog(tmp_path, base)
    df = _user_file(tmp_path, "RUN apt-get update && apt-get install -y --no-install-recommends jq\n")
    entry, _ = analyze_json("--catalog", cat, df, cache=tmp_path / "c")
    root = [f for f in entry["findings"] if f["rule"] == "AN6002"]
    assert [(f["line"], f["column"]) for f in root] == [(2, 5), (2, 23)]
    assert "USER 1000" in root[0]["message"]


def test_purge_then_use(tools_chain, tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text(
        "FROM example.test/tools:1\nUSER root\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends wget && \\\n"
        "    wget -q https://example.com/x && \\\n"
        "    apt-get purge -y --auto-remove wget && \\\n"
        "    wget -q https://example.com/y\n"
    )
    entry, _ = analyze_json("--catalog", tools_chain, df, cache=tmp_path / "c")
    [f] = [f for f in entry["findings"] if f["rule"] == "AN6001"]
    assert (f["line"], f["column"]) == (6, 5) and "removed" in f["message"]


def test_offline_makes_no_request_and_second_run_uses_cache(upstream, tmp_path):
    server, base = upstream
    cat = write_catalog(tmp_path, base)
    cache = tmp_path / "cache"
    analyze_json("--offline", "--catalog", cat, SEED, cache=cache)
    assert len(server.log) == 0
    first, _ = analyze_json("--catalog", cat, SEED, cache=cache)
    n_first = len(server.log)
    assert n_first >= 4
    server.clear_log() if hasattr(server, "clear_log") else None
    before = len(server.log)
    again, _ = analyze_json("--offline", "--catalog", cat, SEED, cache=cache)
    assert len(server.log) == before  # offline: nothing sent
    assert [e["image"] for e in again["lineage"]] == [e["image"] for e in first["lineage"]]
    assert again["lineage"][0]["source"] == first["lineage"][0]["source"]


def test_offline_without_cache_falls_back_to_builtin_knowledge(tmp_path):
    entry, proc = analyze_json("--offline", "--explain", "conda", SEED, cache=tmp_path / "empty")
    assert entry["explain"]["status"] == "available"
    chain = entry["lineage"]
    assert chain[0]["image"] == "jupyter/scipy-notebook:latest"
    assert chain[0]["source"] == "builtin" and "built-in knowledge" in chain[0]["note"]
    assert not [f for f in entry["findings"] if f["rule"].startswith("AN6")]


@pytest.mark.parametrize(
    "status,expect",
    [(404, "404"), (500, "500"), (429, "429")],
)
def test_http_errors_are_clear_and_analysis_goes_on(httpserver, tmp_path, status, expect):
    httpserver.expect_request("/images/scipy-notebook/Dockerfile").respond_with_data(
        "nope", status=status, headers={"Retry-After": "0"}
    )
    cat = write_catalog(tmp_path, httpserver.url_for("/images"))
    entry, proc = analyze_json("--catalog", cat, SEED, cache=tmp_path / "c")
    assert expect in proc.stderr
    assert [f for f in entry["findings"] if f["rule"] == "AN3006"]  # linting went on
    assert not [f for f in entry["findings"] if f["rule"] == "AN6001"]


def test_parent_that_is_not_a_dockerfile(httpserver, tmp_path):
    httpserver.expect_request("/images/scipy-notebook/Dockerfile").respond_with_data(
        "<!DOCTYPE html><html><body>Login</body></html>", content_type="text/html"
    )
    cat = write_catalog(tmp_path, httpserver.url_for("/images"))
    entry, proc = analyze_json("--catalog", cat, SEED, cache=tmp_path / "c")
    assert "HTML" in proc.stderr or "html" in proc.stderr
    assert not [f for f in entry["findings"] if f["rule"] == "AN6001"]


def test_redirect_loop(httpserver, tmp_path):
    httpserver.expect_request("/images/scipy-notebook/Dockerfile").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/images/scipy-notebook/Dockerfile")}
    )
    cat = write_catalog(tmp_path, httpserver.url_for("/images"))
    entry, proc = analyze_json("--catalog", cat, SEED, cache=tmp_path / "c")
    assert "redirect" in proc.stderr.lower()


def test_from_cycle_across_catalog_entries(httpserver, tmp_path):
    httpserver.expect_request("/a/Dockerfile").respond_with_data("FROM example.test/b:1\nRUN true\n")
    httpserver.expect_request("/b/Dockerfile").respond_with_data("FROM example.test/a:1\nRUN true\n")
    cat = tmp_path / "catalog.yaml"
    cat.write_text(
        "images:\n"
        f"  - image: example.test/a\n    dockerfile: {httpserver.url_for('/a/Dockerfile')}\n"
        f"  - image: example.test/b\n    dockerfile: {httpserver.url_for('/b/Dockerfile')}\n"
    )
    df = tmp_path / "Dockerfile"
    df.write_text("FROM example.test/a:1\nRUN whatever\n")
    entry, proc = analyze_json("--catalog", cat, df, cache=tmp_path / "c")
    assert "cycle" in proc.stderr.lower()
    assert [e["image"] for e in entry["lineage"]] == ["example.test/a:1", "example.test/b:1"]
    assert not [f for f in entry["findings"] if f["rule"] == "AN6001"]


def test_slow_server_times_out_with_clear_message(tmp_path):
    import socket
    import threading

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    port = sock.getsockname()[1]
    stop = threading.Event()

    def accept():
        conns = []
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                conns.append(conn)  # never answer
            except OSError:
                pass
        for c in conns:
            c.close()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        cat = write_catalog(tmp_path, f"http://127.0.0.1:{port}/images")
        start = time.monotonic()
        entry, proc = analyze_json("--catalog", cat, SEED, cache=tmp_path / "c")
        assert time.monotonic() - start < 90
        assert "timed out" in proc.stderr.lower() or "timeout" in proc.stderr.lower()
    finally:
        stop.set()
        t.join(2)
        sock.close()


def test_catalog_by_path_needs_no_server(tmp_path):
    cat = ROOT / "sample_dockerfiles" / "upstream" / "catalog.yaml"
    entry, _ = analyze_json("--catalog", cat, "--explain", "tini", SEED, cache=tmp_path / "c")
    assert entry["explain"]["status"] == "available"
    assert entry["explain"]["provided_by"]["source"].endswith("docker-stacks-foundation/Dockerfile")
