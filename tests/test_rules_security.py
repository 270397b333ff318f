"""Our own rules beyond hadolint and BuildKit (AN5001-AN5006)."""

import pytest

from analyzer.rules import LintOptions, lint_text

from conftest import assert_finds, assert_not_finds, findings_for


def positions(text: str, rule: str):
    return [(f.line, f.column) for f in findings_for(text, rule)]


# -- AN5001: verification turned off ----------------------------------------------------------------


@pytest.mark.parametrize(
    "run,column",
    [
        ("curl -k https://x", 10),
        ("curl -fsSLk https://x", 10),
        ("curl -kfsSL -o out https://x", 10),
        ("curl --insecure https://x", 10),
        ("wget --no-check-certificate https://x", 10),
        ("apk add --allow-untrusted /tmp/x.apk", 13),
        ("apt-get install -y --allow-unauthenticated foo", 24),
        ("apt-get -o Acquire::https::Verify-Peer=false update", 16),
        ("yum install -y --nogpgcheck foo", 20),
        ("dnf install -y --nogpgcheck foo", 20),
        ("zypper --no-gpg-checks install foo", 12),
        ("pip install --trusted-host pypi.internal foo", 17),
        ("python3 -m pip install --trusted-host=pypi.internal foo", 28),
        ("npm config set strict-ssl false", 20),
        ("yarn config set strict-ssl false", 21),
        ("git config --global http.sslVerify false", 25),
        ("git -c http.sslVerify=false clone https://x/r.git", 12),
        ("NODE_TLS_REJECT_UNAUTHORIZED=0 npm ci", 5),
        ("export GIT_SSL_NO_VERIFY=1", 12),
        ("env PYTHONHTTPSVERIFY=0 python fetch.py", 9),
    ],
)
def test_tls_off_in_run(run, column):
    assert_finds("AN5001", f"FROM debian:12\nRUN {run}\n", 2, column)


@pytest.mark.parametrize(
    "run",
    [
        "curl -fsSL https://x",
        "curl -o k https://x",  # -o takes the value 'k'
        "curl -H 'X-k: 1' https://x",
        "wget -q https://x",
        "pip install --index-url https://pypi.internal/simple foo",
        "npm config set strict-ssl true",
        "git config --global http.sslVerify true",
        "NODE_TLS_REJECT_UNAUTHORIZED=1 npm ci",
        "echo NODE_TLS_REJECT_UNAUTHORIZED is not set here",
        "apt-get install -y --no-install-recommends curl",
    ],
)
def test_tls_on_is_quiet(run):
    assert_not_finds("AN5001", f"FROM debian:12\nRUN {run}\n")


def test_tls_off_in_env_and_arg():
    assert_finds("AN5001", "FROM node:20\nENV NODE_TLS_REJECT_UNAUTHORIZED=0\n", 2, 5)
    assert_finds("AN5001", "FROM node:20\nENV NODE_TLS_REJECT_UNAUTHORIZED 0\n", 2, 5)
    assert_finds("AN5001", "FROM debian:12\nARG GIT_SSL_NO_VERIFY=true\n", 2, 5)
    assert_finds("AN5001", "FROM python:3.12\nENV A=1 PIP_TRUSTED_HOST=pypi.internal\n", 2, 9)
    assert_not_finds("AN5001", "FROM debian:12\nARG GIT_SSL_NO_VERIFY\nENV NODE_TLS_REJECT_UNAUTHORIZED=1\n")


def test_tls_off_written_into_config_files():
    text = (
        "FROM debian:12\n"
        'RUN echo "deb [trusted=yes] http://repo.internal/ ./" > /etc/apt/sources.list.d/internal.list\n'
        "RUN echo insecure >> ~/.curlrc\n"
        'RUN printf "[r]\\nbaseurl=http://r\\ngpgcheck=0\\n" > /etc/yum.repos.d/r.repo\n'
        "RUN echo 'Acquire::https::Verify-Peer \"false\";' > /etc/apt/apt.conf.d/99insecure\n"
    )
    assert [line for line, _ in positions(text, "AN5001")] == [2, 3, 4, 5]


def test_tls_off_inside_heredocs_and_exec_form():
    text = "FROM node:20\nRUN <<EOF\nset -e\nNODE_TLS_REJECT_UNAUTHORIZED=0 yarn install\ncurl -k https://x\nEOF\n"
    assert positions(text, "AN5001") == [(4, 1), (5, 6)]
    assert_finds("AN5001", 'FROM debian:12\nRUN ["sh", "-c", "curl -k https://x"]\n', 2)


def test_tls_off_reported_once_per_place():
    found = findings_for("FROM debian:12\nRUN git -c http.sslVerify=false clone x\n", "AN5001")
    assert len(found) == 1


# -- AN5002: secrets in values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line,what",
    [
        ("ENV AWS_ID=AKIAIOSFODNN7EXAMPLE", "AWS access key"),
        ("ENV T=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "GitHub token"),
        ("ARG T=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "GitHub token"),
        ("ENV T=glpat-abcdefghij0123456789", "GitLab token"),
        ("ENV KEY=\"-----BEGIN OPENSSH PRIVATE KEY-----\"", "private key"),
        ("ARG REPO=https://ci:Sup3rS3cret@git.example.com/r.git", "password inside a URL"),
        ("ENV DSN=\"host=db password=hunter2\"", "literal password"),
        ("ENV OPTS=--api-key=abc123def", "literal password"),
    ],
)
def test_secret_values(line, what):
    (f,) = findings_for(f"FROM alpine:3.20\n{line}\n", "AN5002")
    assert what in f.message
    assert f.severity == "error"


def test_secret_value_is_not_echoed_in_full():
    (f,) = findings_for("FROM alpine:3.20\nENV T=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\n", "AN5002")
    assert "ghp_aBcD" not in f.message and "ghp_…" in f.message


@pytest.mark.parametrize(
    "line",
    [
        "ENV DB_URL=postgres://app@db:5432/app",
        "ARG INDEX=https://deploy:${INDEX_PASSWORD}@pypi.example.com/simple",
        'ENV JAVA_OPTS="-Ddb.password=${DB_PASSWORD}"',
        'ENV HINT="password=<set at runtime>"',
        "ENV PASSWORD_FILE=/run/secrets/db",
        "ARG GITHUB_TOKEN",
        "ENV KEY_ID=ghp_short",
    ],
)
def test_values_that_are_not_secrets(line):
    assert_not_finds("AN5002", f"FROM alpine:3.20\n{line}\n")


def test_secrets_in_run_text():
    text = "FROM alpine:3.20\nRUN curl -H 'Authorization: token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789' https://api.github.com\n"
    assert_finds("AN5002", text, 2, 35)
    # a literal password= in a RUN is left to the shell-aware rules: too many false alarms
    assert_not_finds("AN5002", "FROM alpine:3.20\nRUN ./configure --password=$PW\n")


# -- AN5003: downloaded scripts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "run,column",
    [
        ("curl -fsSL https://x/i.sh | sh", 33),
        ("curl -fsSL https://x/i.sh | bash -s -- --yes", 33),
        ("wget -qO- https://x/i.sh | sh", 32),
        ("wget -O - https://x/i.sh | sudo bash", 37),
        ("curl -fsSL https://x/i.sh | tee /tmp/log | sh", 48),
        ('sh -c "$(curl -fsSL https://x/i.sh)"', 5),
        ("bash <(curl -fsSL https://x/i.sh)", 5),
        ('eval "$(wget -qO- https://x/env)"', 5),
        ("curl -fsSL -o /tmp/i.sh https://x/i.sh && sh /tmp/i.sh", 47),
        ("wget https://x/install.sh && chmod +x install.sh && ./install.sh", 57),
    ],
)
def test_unverified_download_run(run, column):
    assert_finds("AN5003", f"FROM debian:12\nRUN {run}\n", 2, column)


@pytest.mark.parametrize(
    "run",
    [
        "curl -fsSL https://x/a.tgz | tar -xz",
        "curl -fsSL https://x/i.sh | sh -c 'cat > /tmp/i.sh'",
        "wget -q https://x/i.sh | sh",  # wget writes to a file here, the pipe carries nothing
        'curl -fsSLo /tmp/i.sh https://x/i.sh && echo "abc  /tmp/i.sh" | sha256sum -c - && sh /tmp/i.sh',
        "curl -fsSLO https://x/i.sh && gpg --verify i.sh.asc i.sh && sh i.sh",
        "sh /opt/local-script.sh",
    ],
)
def test_verified_or_harmless_downloads(run):
    assert_not_finds("AN5003", f"FROM debian:12\nRUN {run}\n")


def test_pipe_to_shell_inside_a_heredoc():
    text = "FROM debian:12\nRUN <<EOF\ncurl -fsSL https://x/i.sh | sh\nEOF\n"
    assert_finds("AN5003", text, 3, 29)


# -- AN5004: Dockerfile keywords inside RUN ----------------------------------------------------------------------


def test_instruction_used_as_a_command():
    assert_finds("AN5004", "FROM debian:12\nRUN apt-get update && RUN apt-get install -y curl\n", 2, 23)
    assert_finds("AN5004", "FROM debian:12\nRUN <<EOF\necho a\nCOPY x /y\nEOF\n", 4, 1)


def test_instruction_at_the_start_of_a_continuation_line():
    text = "FROM debian:12\nRUN make \\\n    && make install \\\nCOPY conf /etc/app/\n"
    (f,) = findings_for(text, "AN5004")
    assert (f.line, f.column, f.end_column) == (4, 1, 5)
    assert "trailing backslash" in f.message


def test_keywords_as_data_are_fine():
    assert_not_finds("AN5004", 'FROM debian:12\nRUN echo "RUN is a keyword" && env | grep USER\n')
    assert_not_finds("AN5004", "FROM debian:12\nRUN run-parts /etc/x && copy_files\n")
    assert_not_finds("AN5004", 'FROM postgres:16\nRUN psql -c "SELECT 1 \\\nFROM t"\n')
    assert_not_finds("AN5004", "FROM debian:12\nRUN echo a \\\n  ENV=prod ./x\n")


# -- AN5005: unreachable stages ------------------------------------------------------------------------------------


def test_unreachable_stage_found_through_every_kind_of_reference():
    text = (
        "FROM golang:1.22 AS base\n"
        "FROM base AS build\n"
        "FROM debian:12 AS assets\n"
        "FROM debian:12 AS cache\n"
        "FROM debian:12 AS leftover\n"
        "FROM debian:12\n"
        "COPY --from=build /out /out\n"
        "COPY --from=2 /a /a\n"
        "RUN --mount=type=cache,target=/c,from=cache true\n"
    )
    assert positions(text, "AN5005") == [(5, 19)]


def test_stage_used_only_by_an_unreachable_stage_is_unreachable():
    text = "FROM alpine:3.20 AS a\nFROM alpine:3.20 AS b\nCOPY --from=a /x /x\nFROM alpine:3.20\n"
    assert [line for line, _ in positions(text, "AN5005")] == [1, 2]


def test_unnamed_unreachable_stage_points_at_from():
    assert positions("FROM alpine:3.20\nFROM alpine:3.20\n", "AN5005") == [(1, 1)]


def test_targets_option_and_dynamic_references():
    text = "FROM node:20 AS test\nRUN npm test\nFROM node:20-slim\n"
    assert_finds("AN5005", text, 1, 17)
    opts = LintOptions(rule_options=(("AN5005", {"targets": ["test"]}),))
    assert not [f for f in lint_text(text, opts) if f.rule == "AN5005"]
    # a --from chosen by a build argument could name any stage
    assert_not_finds("AN5005", "FROM alpine:3.20 AS a\nFROM alpine:3.20\nARG SRC\nCOPY --from=$SRC /x /x\n")
    assert_not_finds("AN5005", "ARG SRC=a\nFROM alpine:3.20 AS a\nFROM alpine:3.20\nARG SRC\nCOPY --from=$SRC /x /x\n")


# -- AN5006: whole-context COPY before installs ------------------------------------------------------------------


@pytest.mark.parametrize(
    "install",
    [
        "npm ci",
        "npm install",
        "yarn install --frozen-lockfile",
        "yarn",
        "pnpm install",
        "pip install -r requirements.txt",
        "pip3 install --no-cache-dir -rrequirements.txt",
        "python -m pip install --requirement=req.txt",
        "bundle install",
        "composer install --no-dev",
        "go mod download",
        "poetry install --no-root",
        "pipenv install --deploy",
        "uv sync --frozen",
    ],
)
def test_install_after_whole_context_copy(install):
    assert_finds("AN5006", f"FROM scratch\nWORKDIR /app\nCOPY . .\nRUN {install}\n", 4, 5)


@pytest.mark.parametrize(
    "text",
    [
        "FROM node:20\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n",
        "FROM node:20\nCOPY . .\nRUN npm install express\n",  # a named package, not the manifest
        "FROM python:3.12\nCOPY . .\nRUN pip install .\n",  # installs the project itself
        "FROM node:20 AS deps\nCOPY . .\nFROM node:20\nRUN npm ci\n",  # another stage
        "FROM node:20\nCOPY --from=deps . .\nRUN npm ci\n",
    ],
)
def test_install_ordering_that_is_fine(text):
    assert_not_finds("AN5006", text)


def test_install_message_names_the_copy_and_the_manifest():
    (f,) = findings_for("FROM golang:1.22\nADD ./ /src\nRUN cd /src && go mod download\n", "AN5006")
    assert "ADD on line 2" in f.message and "go.mod and go.sum" in f.message
    assert (f.line, f.column, f.end_column) == (3, 16, 31)


_SECRET_PIECES = [
    "AKIAIOSFODNN7EXAMPLE", "ASIA0123456789ABCDEF", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "gho_", "github_pat_11ABCDEFG0123456789_abcdef",
    "glpat-abcdefghij0123456789", "xoxb-0123456789-abc", "sk_live_abcdefghijklmnopqrstu", "rk_live_", "AIzaSyA-0123456789abcdefghijklmnopqrstu",
    "npm_abcdefghijklmnopqrstuvwxyz0123456789", "pypi-AgEIcHlwaS5vcmc" + "a" * 40, "eyJhbGciOiJI.eyJzdWIiOiIx.SflKxwRJSMeKKF2QT4",
    "-----BEGIN RSA PRIVATE KEY-----", "https://u:pw@h/", "ftp://x:${P}@h", "PASSWORD=hunter2", "pwd: 'abc'", "Api-Key=\"k1\"",
    "ACCESS_KEY=x", "token=<none>", "secret:xxx", " ", "=", "\n", "$", "é", "a", "Z", "_", "-", ":", "/", "@",
]


def _secret_values_slowly(text, assignments):
    """The same scan without the shortcuts: every pattern over the whole text."""
    from analyzer.checks import security as s

    for pattern, what in s._TOKEN_PATTERNS:
        for m in pattern.finditer(text):
            yield m.start(), m.end(), what
    for m in s._URL_CREDENTIALS.finditer(text):
        if not s._PLACEHOLDER.match(m.group(2)):
            yield m.start(2), m.end(2), "a password inside a URL"
    if assignments:
        for m in s._PASSWORD_ASSIGN.finditer(text):
            idx = next(i for i in (1, 2, 3) if m.group(i) is not None)
            value = m.group(idx)
            if value and not s._PLACEHOLDER.match(value) and not value.startswith(("/", "${")):
                yield m.start(idx), m.end(idx), "a literal password or token"


def test_secret_value_shortcuts_find_what_the_full_scan_finds():
    from hypothesis import given, settings, strategies as st

    from analyzer.checks.security import secret_values

    pieces = st.sampled_from(_SECRET_PIECES) | st.text(min_size=0, max_size=6)

    @settings(max_examples=1500, deadline=None, database=None)
    @given(st.lists(pieces, max_size=8).map("".join), st.booleans())
    def same(text, assignments):
        assert list(secret_values(text, assignments)) == list(_secret_values_slowly(text, assignments))

    same()
    assert list(secret_values("x AKIAIOSFODNN7EXAMPLE y", False)) == [(2, 22, "an AWS access key id")]
