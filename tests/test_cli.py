"""The analyze command end to end, run as a real process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sample_dockerfiles" / "jupyter-kaggle" / "Dockerfile"


def run(*args, stdin=None, cwd=None, env=None):
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=full_env,
        timeout=60,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def one_error_line(proc):
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("analyze: error: ")
    return lines[0]


def test_seed_example_reports_untagged_base(tmp_path):
    proc = run(SEED)
    assert proc.returncode == 1
    assert f"{SEED}:1:6: warning AN3006 (DL3006)" in proc.stdout
    assert "jupyter/scipy-notebook" in proc.stdout


def test_json_output_matches_contract():
    proc = run("--format", "json", SEED)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert set(data) >= {"version", "files"}
    [entry] = data["files"]
    assert entry["path"] == str(SEED)
    finding = next(f for f in entry["findings"] if f["rule"] == "AN3006")
    assert finding["aliases"] == ["DL3006"]
    assert finding["severity"] == "warning"
    assert (finding["line"], finding["column"], finding["end_line"], finding["end_column"]) == (1, 6, 1, 28)
    assert isinstance(finding["message"], str)
    for f in entry["findings"]:
        assert set(f) >= {"rule", "aliases", "severity", "line", "column", "end_line", "end_column", "message"}
        assert f["severity"] in ("error", "warning", "info", "style")


def test_exit_codes_follow_threshold_and_exit_zero():
    assert run("--exit-zero", SEED).returncode == 0
    assert run("--failure-threshold", "error", SEED).returncode == 0
    assert run("--failure-threshold", "warning", SEED).returncode == 1
    assert run("--ignore", "DL3006", SEED).returncode == 0
    assert run("--ignore", "AN3006,DL3007", SEED).returncode == 0


def test_position_inside_multiline_run(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text(
        "FROM debian:12\n"
        "RUN set -e && \\\n"
        "    apt-get update && \\\n"
        "    # a comment inside the continuation\n"
        "    echo step && \\\n"
        "      sudo make install && \\\n"
        "    echo done\n"
    )
    data = json.loads(run("--format", "json", df).stdout)
    [sudo] = [f for f in data["files"][0]["findings"] if f["rule"] == "AN3004"]
    assert (sudo["line"], sudo["column"]) == (6, 7)


def test_position_inside_heredoc(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM debian:12\nRUN <<EOF\nset -e\napt-get update\n  apt-get install -y curl\nEOF\n")
    data = json.loads(run("--format", "json", df).stdout)
    [f] = [f for f in data["files"][0]["findings"] if f["rule"] == "AN3015"]
    assert (f["line"], f["column"]) == (5, 3)


def test_parse_error_is_a_finding_with_position(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM debian:12\nRUN echo ok\nRUN <<EOF\nno terminator\n")
    proc = run("--format", "json", df)
    assert proc.returncode == 1
    [f] = json.loads(proc.stdout)["files"][0]["findings"]
    assert f["rule"] == "AN0001" and f["line"] == 3
    assert "heredoc" in f["message"]


def test_long_line_is_a_parse_error_finding(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM debian:12\nRUN echo " + "x" * 70_000 + "\n")
    proc = run("--format", "json", df)
    assert proc.returncode == 1
    [f] = json.loads(proc.stdout)["files"][0]["findings"]
    assert f["rule"] == "AN0001" and f["line"] == 2


@pytest.mark.parametrize(
    "content,expected",
    [
        (bytes(range(256)) * 4, "binary file"),
        (b"FROM debian:12\nRUN echo \xff\xfe\n", "invalid UTF-8 at byte offset 24 (line 2, column 10)"),
    ],
)
def test_undecodable_input_is_one_error_line(tmp_path, content, expected):
    df = tmp_path / "Dockerfile"
    df.write_bytes(content)
    proc = run(df)
    assert proc.returncode == 2
    assert expected in one_error_line(proc)


def test_empty_and_comment_only_files(tmp_path):
    for text in ("", "# just a comment\n\n"):
        df = tmp_path / "Dockerfile"
        df.write_text(text)
        proc = run("--format", "json", df)
        assert proc.returncode == 1
        [f] = json.loads(proc.stdout)["files"][0]["findings"]
        assert f["rule"] == "AN0001" and "no instructions" in f["message"]


def test_missing_path_and_directory_without_dockerfile(tmp_path):
    proc = run(tmp_path / "nope")
    assert proc.returncode == 2 and "no such file" in one_error_line(proc)
    (tmp_path / "README").write_text("x")
    proc = run(tmp_path)
    assert proc.returncode == 2 and "no Dockerfile found" in one_error_line(proc)


def test_fifo_is_refused(tmp_path):
    fifo = tmp_path / "Dockerfile"
    os.mkfifo(fifo)
    proc = run(fifo)
    assert proc.returncode == 2 and "not a regular file" in one_error_line(proc)


def test_directory_search(tmp_path):
    for name in ("Dockerfile", "api.Dockerfile", "Dockerfile.prod", "Containerfile", "Dockerfile.dockerignore", "notes.txt"):
        (tmp_path / name).write_text("FROM debian:12\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Dockerfile").write_text("FROM debian\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "Dockerfile").write_text("FROM debian\n")
    data = json.loads(run("--format", "json", tmp_path).stdout)
    names = sorted(Path(f["path"]).relative_to(tmp_path).as_posix() for f in data["files"])
    assert names == ["Containerfile", "Dockerfile", "Dockerfile.prod", "api.Dockerfile", "sub/Dockerfile"]


def test_stdin():
    proc = run("--format", "json", "-", stdin="FROM debian\n")
    data = json.loads(proc.stdout)
    assert data["files"][0]["path"] == "<stdin>"
    assert [f["rule"] for f in data["files"][0]["findings"]] == ["AN3006"]


def test_output_file(tmp_path):
    out = tmp_path / "report.json"
    proc = run("--format", "json", "--output", out, SEED)
    assert proc.stdout == ""
    assert json.loads(out.read_text())["files"][0]["findings"]


def test_list_rules_prints_every_rule(catalog):
    proc = run("--list-rules")
    assert proc.returncode == 0
    for rid in catalog:
        assert rid in proc.stdout
    data = json.loads(run("--list-rules", "--format", "json").stdout)
    assert {r["id"] for r in data} == set(catalog)


def test_version():
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("analyze ")


def test_usage_errors_exit_2():
    assert run("--no-such-option").returncode == 2
    proc = run("--format", "xml", SEED)
    assert proc.returncode == 2 and "unknown format" in one_error_line(proc)
    proc = run("--failure-threshold", "loud", SEED)
    assert proc.returncode == 2


def test_bad_config_file_exit_2(tmp_path):
    (tmp_path / ".analyze.yaml").write_text("ignore: [\n")
    (tmp_path / "Dockerfile").write_text("FROM debian\n")
    proc = run(tmp_path / "Dockerfile")
    assert proc.returncode == 2 and "invalid YAML" in one_error_line(proc)


def test_discovered_config_applies(tmp_path):
    (tmp_path / ".analyze.yaml").write_text("ignore: [DL3006]\n")
    (tmp_path / "Dockerfile").write_text("FROM debian\n")
    assert run(tmp_path / "Dockerfile").returncode == 0
    assert run("--config", tmp_path / ".analyze.yaml", SEED).returncode == 0


def test_build_arg_changes_the_verdict(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("ARG TAG\nFROM debian${TAG}\n")
    assert "AN3006" in run(df).stdout
    assert "AN3006" not in run("--build-arg", "TAG=:12", df).stdout


def _pty_output(args, env):
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # child
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "analyzer", *map(str, args)], env)
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode("utf-8", "replace")


def test_color_on_a_terminal_and_no_color_honoured():
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm-256color"
    assert "\x1b[" in _pty_output([SEED], env)
    env["NO_COLOR"] = "1"
    assert "\x1b[" not in _pty_output([SEED], env)
    assert "\x1b[" not in run(SEED).stdout
