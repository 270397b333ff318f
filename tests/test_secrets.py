"""Secrets never leave the analyzer: not on stdout, not on stderr, not in the cache.

The secrets, each a distinctive value:

* registry credentials in a temporary ``DOCKER_CONFIG``: ``auths.<registry>.auth`` (base64
  of ``user:S3cretPassw0rd``) and an ``identitytoken``;
* the Bearer token the registry's token server (on 127.0.0.1) hands out;
* a password in the userinfo of a catalog URL, and a ``private_token`` in its query;
* build arguments: ``--build-arg API_TOKEN=...``, an ``ARG AWS_SECRET_ACCESS_KEY=...``
  default and an ``ENV GITHUB_TOKEN=ghp_...`` in the Dockerfile itself.

A real lineage is resolved through them (the registry answers only to the Bearer token the
credentials buy; the catalog server only to the URL's password), in every output format,
with ``-v``, ``--explain``, ``--plan``/``--record`` (BuildKit and classic), ``--build``
(docker's log shows RUN lines with the build args expanded), and when the registry, the
token server or the catalog server fail (and echo the credentials they got in their
answers). Each run's stdout and stderr, and every file under ``--cache-dir`` (read as
bytes), must hold none of the secrets in any of the forms they travel in.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from conftest import started_http_servers
from test_registry import REPO, FakeRegistry

ROOT = Path(__file__).resolve().parent.parent

PASSWORD = "S3cretPassw0rd"
AUTH = base64.b64encode(f"user:{PASSWORD}".encode()).decode()
IDENTITY = "idtok-R3fresh-8c1d5e2f9a7b"
BEARER = "bearer-Tok3n-4f9c2a7e1b6d"
URL_PASSWORD = "urlPassw0rd-c7e3a9d1"
URL_AUTH = base64.b64encode(f"deploy:{URL_PASSWORD}".encode()).decode()
QUERY_TOKEN = "glq-QueryTok3n-6a0f2b"
BUILD_ARG = "tok-BuildArg-5d8e1f3a2c"
AWS_SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCY-9b2d"
GH_TOKEN = "ghp_Zq7Xw2Lk9Vb4Nm1Rt6Yp3Hs8Jd5Fg0Ca2Eu7"
DB_PASSWORD = "pwDefault-8c1d5e3a"
SECRETS = {
    "registry password": PASSWORD, "docker config auth": AUTH, "identity token": IDENTITY,
    "bearer token": BEARER, "URL password": URL_PASSWORD, "URL basic auth": URL_AUTH, "URL query token": QUERY_TOKEN,
    "--build-arg value": BUILD_ARG, "ARG default": AWS_SECRET, "ENV value": GH_TOKEN, "DB_PASSWORD default": DB_PASSWORD,
}
FORMATS = ("text", "json", "sarif", "github", "gitlab", "checkstyle")


def assert_no_secret(where: str, data) -> None:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    for what, value in SECRETS.items():
        assert value.encode() not in data, f"{what} ({value}) in {where}"


def assert_clean_cache(cache: Path) -> int:
    """Every file under the cache dir, as bytes; returns how many there are."""
    files = [p for p in cache.rglob("*") if p.is_file()]
    for path in files:
        assert_no_secret(str(path.relative_to(cache)), path.read_bytes())
    return len(files)


# -- servers -------------------------------------------------------------------------------------------


class SecretRegistry(FakeRegistry):
    """Answers only to ``Bearer BEARER``; its token server hands BEARER out for the identity
    token (POST, OAuth2 refresh grant) or for the docker config's user and password (GET).
    ``fail`` makes the token server or the registry answer 500 with the credentials they
    got echoed in the body."""

    def __init__(self, *servers):
        super().__init__(*servers)
        self.basic = f"Bearer {BEARER}"  # the one Authorization the registry accepts
        self.fail = ""
        self.token_posts: list = []

    def handle(self, request):
        echo = json.dumps({"got": dict(request.headers), "form": request.form.to_dict(), "args": request.args.to_dict()})
        if request.path == "/token":
            self.token_requests.append(request)
            if self.fail == "token":
                return Response(echo, status=500)
            if request.method == "POST":
                self.token_posts.append(request.form.to_dict())
                if request.form.get("grant_type") == "refresh_token" and request.form.get("refresh_token") == IDENTITY:
                    return Response(json.dumps({"access_token": BEARER, "expires_in": 300}), content_type="application/json")
                return Response(echo, status=401)
            if request.headers.get("Authorization") == f"Basic {AUTH}":
                return Response(json.dumps({"token": BEARER, "expires_in": 300}), content_type="application/json")
            return Response(echo, status=401)
        if self.fail == "registry" and request.headers.get("Authorization"):
            self.registry_requests.append(request)
            return Response(echo, status=500, headers={"X-Echo": request.headers.get("Authorization", "")})
        return super().handle(request)


@pytest.fixture(scope="module")
def servers():
    yield from started_http_servers(3)


@pytest.fixture
def registry(servers):
    for server in servers[:2]:
        server.clear()
    return SecretRegistry(servers[0], servers[1])


UPSTREAM = "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends git\n"


@pytest.fixture
def upstream(servers):
    """The catalog's server: serves the tools image's Dockerfile to the URL's password only
    (and says the answer varies on Authorization, as raw.githubusercontent.com does)."""
    server = servers[2]
    server.clear()

    def handle(request):
        if request.headers.get("Authorization") != f"Basic {URL_AUTH}":
            return Response(json.dumps({"denied": dict(request.headers)}), status=401)
        return Response(UPSTREAM, content_type="text/plain", headers={"ETag": '"v1"', "Vary": "Authorization, Accept-Encoding"})

    server.expect_request("/tools/Dockerfile").respond_with_handler(handle)
    return server


def docker_config(tmp_path: Path, reg: FakeRegistry, identity: bool) -> Path:
    directory = tmp_path / "docker-config"
    directory.mkdir(exist_ok=True)
    entry = {"auth": AUTH}
    if identity:
        entry["identitytoken"] = IDENTITY
    directory.joinpath("config.json").write_text(json.dumps({"auths": {reg.host: entry}}))
    return directory


def write_inputs(tmp_path: Path, reg: FakeRegistry, upstream: HTTPServer) -> tuple[Path, Path]:
    cat = tmp_path / "catalog.yaml"
    url = upstream.url_for("/tools/Dockerfile").replace("http://", f"http://deploy:{URL_PASSWORD}@") + f"?private_token={QUERY_TOKEN}"
    cat.write_text(f"images:\n  - image: 127.0.0.1:9/team/tools\n    dockerfile: {url}\n")
    df = tmp_path / "Dockerfile"
    df.write_text(
        f"ARG AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n"
        "FROM 127.0.0.1:9/team/tools:1 AS tools\n"
        "RUN git --version > /tools.txt\n"
        f"FROM {reg.host}/{REPO}:single\n"
        "ARG API_TOKEN\n"
        "ARG AWS_SECRET_ACCESS_KEY\n"
        f"ENV GITHUB_TOKEN={GH_TOKEN}\n"
        "COPY --from=tools /tools.txt /tools.txt\n"
        'RUN echo "$API_TOKEN" "$AWS_SECRET_ACCESS_KEY" "$GITHUB_TOKEN" > /dev/null && tool --check\n'
    )
    return df, cat


def analyze(tmp_path: Path, config: Path, *args, env=None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ANALYZE_") and k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    full_env.update({
        "DOCKER_CONFIG": str(config), "ANALYZE_DOCKER": "none", "ANALYZE_HTTP_DEADLINE": "5",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    })
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", *map(str, args)],
        capture_output=True, text=True, cwd=tmp_path, env=full_env, timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert_no_secret(f"stdout of analyze {' '.join(map(str, args))}", proc.stdout)
    assert_no_secret(f"stderr of analyze {' '.join(map(str, args))}", proc.stderr)
    return proc


# -- the tests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("identity", [True, False], ids=["identitytoken", "auth"])
def test_no_secret_in_any_output_nor_in_the_cache(registry, upstream, tmp_path, identity):
    config = docker_config(tmp_path, registry, identity)
    df, cat = write_inputs(tmp_path, registry, upstream)
    cache = tmp_path / "cache"
    common = ("--catalog", cat, "--cache-dir", cache, "--build-arg", f"API_TOKEN={BUILD_ARG}", "--preset", "all")

    proc = analyze(tmp_path, config, "-v", "--format", "json", "--explain", "tool", *common, df)
    assert proc.returncode == 1, proc.stderr
    entry = json.loads(proc.stdout)["files"][0]
    # the credentials were really used: the lineage came through both servers
    assert [d["kind"] for d in entry["lineage"]] == ["registry"], entry["lineage"]
    assert entry["explain"]["command"] == "tool" and registry.cdn_requests  # layers were listed
    if identity:
        assert registry.token_posts and registry.token_posts[0]["refresh_token"] == IDENTITY
        assert registry.token_posts[0]["grant_type"] == "refresh_token"
    else:
        assert not registry.token_posts
        assert [r.headers.get("Authorization") for r in registry.token_requests] == [f"Basic {AUTH}"]
    assert {r.headers.get("Authorization") for r in registry.registry_requests if r.headers.get("Authorization")} == {f"Bearer {BEARER}"}
    assert all("Authorization" not in r.headers for r in registry.cdn_requests)
    assert [r.headers.get("Authorization") for r, _ in upstream.log] == [f"Basic {URL_AUTH}"]
    shown = upstream.url_for("/tools/Dockerfile").replace("http://", "http://deploy:***@") + "?private_token=***"
    assert not [n for n in proc.stderr.splitlines() if "note" in n], proc.stderr
    # -v logged the whole token dance, the token request included
    assert re.search(r"^analyze: fetch: (POST|GET) http://127\.0\.0\.1:\d+/token: 200$", proc.stderr, re.M), proc.stderr
    assert re.search(r"^analyze: fetch: HEAD http://127\.0\.0\.1:\d+/v2/a/b/manifests/single: 200$", proc.stderr, re.M)

    # the secrets the Dockerfile holds are reported by name, never by value
    by_rule: dict = {}
    for f in entry["findings"]:
        by_rule.setdefault(f["rule"], []).append(f["message"])
    assert any("AWS_SECRET_ACCESS_KEY" in m for m in by_rule["AN1012"]), by_rule
    assert any("GITHUB_TOKEN" in m for m in by_rule["AN1012"]) and any("API_TOKEN" in m for m in by_rule["AN3064"])
    assert any("GitHub token" in m and "ghp_…" in m for m in by_rule["AN5002"]), by_rule["AN5002"]

    if not identity:
        assert_clean_cache(cache)
        return  # the rest does not depend on how the token was obtained
    for fmt in FORMATS:
        out = analyze(tmp_path, config, "--format", fmt, *common, df)
        assert out.returncode == 1 and out.stdout.strip(), (fmt, out.stderr)
    verbose = analyze(tmp_path, config, "-v", "--explain", "git", *common, df)
    assert f"analyze: fetch: GET {shown}: " in verbose.stderr  # the log of every request

    # offline, the catalog's answer (stored varying on Authorization) is found again
    offline = analyze(tmp_path, config, "--format", "json", "--offline", "--target", "tools", *common, df)
    first = json.loads(offline.stdout)["files"][0]["lineage"][0]
    assert (first["kind"], first["source"]) == ("dockerfile", shown), offline.stderr

    for builder in ("buildkit", "classic"):
        for fmt in ("text", "json"):
            planned = analyze(tmp_path, config, "--format", fmt, "--plan", "--record", "--builder", builder, *common, df)
            assert "recorded the current state as built" in planned.stderr, planned.stderr
        plan = json.loads(analyze(tmp_path, config, "--format", "json", "--plan", "--builder", builder, *common, df).stdout)["files"][0]["plan"]
        last = plan[-1]
        assert last["prediction"] == "hit", plan  # the record still recognises its build
        assert re.search(r'RUN echo "(\*\*\*|\$API_TOKEN)" "(\*\*\*|\$AWS_SECRET_ACCESS_KEY)"', last["log_name"]), last["log_name"]
        if builder == "classic":
            assert any(s["instruction"] == "ENV GITHUB_TOKEN=***" for s in plan), plan
    # a changed secret is still a change the plan sees, and names the argument, not the value
    changed = analyze(tmp_path, config, "--format", "json", "--plan", *common[:-4], "--build-arg", "API_TOKEN=tok-BuildArg-0therValue", df)
    last = json.loads(changed.stdout)["files"][0]["plan"][-1]
    assert last["prediction"] == "miss" and last["reason"] == "build arg API_TOKEN changed", last
    assert "tok-BuildArg-0therValue" not in changed.stdout

    files = assert_clean_cache(cache)
    assert files >= 8  # http entries, registry blobs and tags, layer listings, build records
    records = list((cache / "builds").rglob("*.json"))
    assert records and any("API_TOKEN" in p.read_text() for p in records)


@pytest.mark.parametrize("fail", ["token", "registry"])
def test_failing_registry_or_token_server_echoing_credentials(registry, upstream, tmp_path, fail):
    config = docker_config(tmp_path, registry, identity=fail == "token")
    df, cat = write_inputs(tmp_path, registry, upstream)
    registry.fail = fail
    cache = tmp_path / "cache"
    for fmt in ("text", "json"):
        proc = analyze(tmp_path, config, "-v", "--format", fmt, "--catalog", cat, "--cache-dir", cache,
                       "--build-arg", f"API_TOKEN={BUILD_ARG}", df)
        assert proc.returncode == 1, proc.stderr
        expected = "token request to http://127.0.0.1:" if fail == "token" else ": HTTP 500"
        assert any(expected in line for line in proc.stderr.splitlines() if line.startswith("analyze: note: ")), proc.stderr
    assert registry.token_requests if fail == "token" else registry.registry_requests
    assert_clean_cache(cache)


@pytest.mark.parametrize("where", ["refused", "denied", "bad-port"])
def test_failing_catalog_url_with_a_password(upstream, tmp_path, where):
    """A catalog URL with a password that cannot be fetched: the note shows the URL with
    the password masked, also with -v."""
    port = {"refused": "9", "denied": str(upstream.port), "bad-port": "99999"}[where]
    url = f"http://deploy:{URL_PASSWORD}@127.0.0.1:{port}/{'other' if where == 'denied' else 'tools'}/Dockerfile?ref=main&private_token={QUERY_TOKEN}"
    cat = tmp_path / "catalog.yaml"
    cat.write_text(f"images:\n  - image: 127.0.0.1:9/team/tools\n    dockerfile: {url}\n")
    df = tmp_path / "Dockerfile"
    df.write_text("FROM 127.0.0.1:9/team/tools:1\nRUN apt-get install curl\n")
    if where == "denied":
        upstream.expect_request("/other/Dockerfile").respond_with_handler(
            lambda request: Response(json.dumps({"you sent": dict(request.headers)}), status=401)
        )
    proc = analyze(tmp_path, tmp_path / "none", "-v", "--catalog", cat, "--cache-dir", tmp_path / "cache", df)
    notes = [line for line in proc.stderr.splitlines() if line.startswith("analyze: note: 127.0.0.1:9/team/tools:1: ")]
    assert notes and "deploy:***@" in notes[0] and "?ref=main&private_token=***" in notes[0], proc.stderr
    assert proc.returncode == 1
    assert_clean_cache(tmp_path / "cache")


def test_docker_config_is_read_from_DOCKER_CONFIG(registry, tmp_path):
    """Without it the registry answers 401 to everything: the credentials came from the
    temporary DOCKER_CONFIG, not from the user's own ~/.docker."""
    df = tmp_path / "Dockerfile"
    df.write_text(f"FROM {registry.host}/{REPO}:single\nRUN tool\n")
    proc = analyze(tmp_path, tmp_path / "empty-config", "--format", "json", "--cache-dir", tmp_path / "c", df)
    note = [line for line in proc.stderr.splitlines() if line.startswith("analyze: note: ")]
    assert note and "token request to http://127.0.0.1:" in note[0] and "HTTP 401" in note[0], proc.stderr
    proc = analyze(tmp_path, docker_config(tmp_path, registry, identity=False), "--format", "json", "--cache-dir", tmp_path / "c", df)
    assert json.loads(proc.stdout)["files"][0]["lineage"][0]["kind"] == "registry", proc.stderr


def test_findings_never_quote_a_secret_value(tmp_path):
    """Rules that quote an expanded value (EXPOSE, USER, the USER a RUN runs as) show ***
    for a variable whose name looks secret; the names stay."""
    df = tmp_path / "Dockerfile"
    df.write_text(
        "FROM alpine:3.20\n"
        "ARG API_TOKEN\n"
        f"ARG DB_PASSWORD={DB_PASSWORD}\n"
        f"ENV GITHUB_TOKEN={GH_TOKEN}\n"
        "EXPOSE $API_TOKEN\n"
        "USER $DB_PASSWORD\n"
        "WORKDIR /srv/$GITHUB_TOKEN\n"
        "RUN apt-get install curl\n"
    )
    for fmt in FORMATS:
        proc = analyze(tmp_path, tmp_path / "none", "--format", fmt, "--offline", "--preset", "all", "--cache-dir", tmp_path / "c",
                       "--build-arg", f"API_TOKEN={BUILD_ARG}", df)
        assert proc.returncode == 1, proc.stderr
        if fmt == "json":
            messages = {f["rule"]: f["message"] for f in json.loads(proc.stdout)["files"][0]["findings"]}
            assert messages["AN3011"].startswith("EXPOSE $API_TOKEN (***) is not a port"), messages
            assert messages["AN3066"].startswith("USER $DB_PASSWORD (***) is a name"), messages
            assert "runs as USER ***;" in messages["AN6002"], messages


STUB_DOCKER = r'''#!/usr/bin/env python3
"""Stands in for the docker CLI (no daemon here): prints what BuildKit's plain progress
prints for a two-step build, RUN line with the build args expanded, as BuildKit does."""
import sys
args = sys.argv[1:]
if args[:1] == ["version"]:
    print("27.0.0|27.0.0")
    sys.exit(0)
if args[:2] == ["buildx", "version"]:
    print("github.com/docker/buildx v0.16.0")
    sys.exit(0)
if args[:1] != ["build"]:
    sys.exit(1)
values = dict(a.split("=", 1) for i, a in enumerate(args) if i and args[i - 1] == "--build-arg")
token = values.get("API_TOKEN", "")
print("#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s")
print("#2 [1/2] FROM docker.io/library/alpine:3.20\n#2 CACHED")
print(f'#3 [2/2] RUN echo "{token}" && login --password={token}')
print(f"#3 0.105 {token}")
print("#3 DONE 0.2s\n#4 exporting to image\n#4 DONE 0.0s")
'''


def test_build_output_log_and_record_mask_build_args(tmp_path):
    """``--build``: docker prints the RUN line with the build arg expanded; the analyzer's
    JSON (the docker command line included), its text, the saved build log and the record
    hold no value."""
    stub = tmp_path / "docker"
    stub.write_text(STUB_DOCKER)
    stub.chmod(0o755)
    df = tmp_path / "Dockerfile"
    df.write_text(f"FROM alpine:3.20\nARG API_TOKEN\nENV GITHUB_TOKEN={GH_TOKEN}\nRUN echo \"$API_TOKEN\"\n")
    cache = tmp_path / "cache"
    for fmt in ("json", "text"):
        proc = analyze(tmp_path, tmp_path / "none", "--format", fmt, "--build", "--no-lineage", "--cache-dir", cache,
                       "--build-arg", f"API_TOKEN={BUILD_ARG}", df, env={"ANALYZE_DOCKER": str(stub)})
        assert proc.returncode in (0, 1), proc.stderr
        if fmt == "json":
            build = json.loads(proc.stdout)["files"][0]["build"]
            assert build["succeeded"], build
            assert "API_TOKEN=***" in build["command"], build["command"]
    logs = list((cache / "build-logs").glob("*.log"))
    assert logs and 'RUN echo "***" && login --password=***' in logs[0].read_text()
    assert list((cache / "builds").rglob("*.json"))
    assert_clean_cache(cache)


def test_redactor_units():
    from analyzer.report.redact import MASK, Redactor, fingerprint, mask_url, secret_name

    assert [n for n in ("API_TOKEN", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", "NPM_AUTH", "GITHUB_TOKEN", "MYSQL_ROOT_PASSWD")
            if not secret_name(n)] == []
    assert [n for n in ("PATH", "KEYBOARD", "MONKEY", "GPG_PUBLIC_KEY", "SSH_KEY_FILE", "TOKEN_VERSION", "HOME")
            if secret_name(n)] == []
    r = Redactor([BUILD_ARG, "ab"])  # too short a value is never masked wherever it appears
    assert r.text(f'RUN curl -H "X: {BUILD_ARG}" https://u:{URL_PASSWORD}@h/ && echo ab') == f'RUN curl -H "X: {MASK}" https://u:{MASK}@h/ && echo ab'
    assert r.text(f"ENV DB_PASSWORD=hunter22 PATH=/bin A={GH_TOKEN}") == f"ENV DB_PASSWORD={MASK} PATH=/bin A={MASK}"
    assert r.text('ARG X_TOKEN="two words"') == f'ARG X_TOKEN="{MASK}"'
    assert r.text("ARG X_TOKEN=$OTHER") == "ARG X_TOKEN=$OTHER"  # a reference is no value
    masked = r.inputs({"env": {"DB_PASSWORD": "hunter22", "PATH": "/bin"}, "cmd": [f"echo {BUILD_ARG}"], "digest": BUILD_ARG})
    assert masked == {"env": {"DB_PASSWORD": fingerprint("hunter22"), "PATH": "/bin"},
                      "cmd": [f"echo {fingerprint(BUILD_ARG)}"], "digest": BUILD_ARG}
    assert fingerprint("a") != fingerprint("b") and fingerprint("a") == fingerprint("a")
    assert mask_url(f"http://deploy:{URL_PASSWORD}@h:1/x") == "http://deploy:***@h:1/x"
