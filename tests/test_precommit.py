"""The pre-commit hooks, run by pre-commit itself against a copy of this checkout.

pre-commit clones the hook repository at a commit and pip-installs it into a fresh
virtualenv (dependencies come from the package index), so this test copies the files the
package is built from into a temporary git repository, commits them, and points a project's
``.pre-commit-config.yaml`` at that repository and commit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_FILES = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "analyzer", "rules")
BAD = "FROM debian\nMAINTAINER someone\n"
GOOD = 'FROM debian:12\nLABEL org.opencontainers.image.authors="someone"\nCMD ["true"]\n'


def _env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT", "VIRTUAL_ENV"))}
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@example.com",
        GIT_CONFIG_NOSYSTEM="1", HOME=str(tmp_path / "home"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    (tmp_path / "home").mkdir(exist_ok=True)
    cache = Path(os.environ.get("HOME", "~")).expanduser() / ".cache" / "pip"
    if cache.is_dir():  # reuse the downloads of earlier installs
        env["PIP_CACHE_DIR"] = str(cache)
    return env


def _git(cwd: Path, env: dict, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _hook_repo(tmp_path: Path, env: dict) -> tuple[Path, str]:
    repo = tmp_path / "hook-repo"
    repo.mkdir()
    for name in PACKAGE_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, repo / name)
    _git(repo, env, "init", "-q")
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "-q", "-m", "hooks")
    return repo, _git(repo, env, "rev-parse", "HEAD")


def _pre_commit(project: Path, env: dict) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "pre-commit"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pre_commit"]
    return subprocess.run([*cmd, "run", "--all-files", "--color", "never"], cwd=project, env=env, capture_output=True, text=True, timeout=900)


def test_hooks_definition_matches_the_cli():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"analyze", "analyze-all-dockerfiles"}
    for hook in hooks.values():
        assert hook["entry"] == "analyze" and hook["language"] == "python" and hook["name"]
        assert "--offline" in hook["args"]
    assert hooks["analyze"]["types"] == ["dockerfile"]
    assert hooks["analyze-all-dockerfiles"]["types"] == ["file"]
    env = {**os.environ, "COLUMNS": "250", "TERM": "dumb"}
    help_text = subprocess.run([sys.executable, "-m", "analyzer", "--help"], capture_output=True, text=True, timeout=60, env=env).stdout
    assert "--offline" in help_text


@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed by pre-commit")
def test_pre_commit_runs_the_hooks(tmp_path):
    env = _env(tmp_path)
    repo, rev = _hook_repo(tmp_path, env)
    project = tmp_path / "project"
    (project / "svc").mkdir(parents=True)
    (project / "Dockerfile").write_text(BAD)
    (project / "svc" / "api.dockerfile").write_text(BAD)
    (project / "svc" / "Dockerfile-prod").write_text(BAD)
    (project / "README.md").write_text("FROM debian\n")  # not a Dockerfile: never analysed
    config = {"repos": [{"repo": str(repo), "rev": rev, "hooks": [{"id": "analyze"}, {"id": "analyze-all-dockerfiles"}]}]}
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    _git(project, env, "init", "-q")
    _git(project, env, "add", "-A")

    proc = _pre_commit(project, env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert out.count("Failed") == 2, out
    assert "Dockerfile:2:1: error AN4000" in out
    assert "svc/api.dockerfile:1:6: warning AN3006" in out  # only the second hook sees it
    assert "svc/Dockerfile-prod:1:6: warning AN3006" in out
    assert "README.md" not in out

    for path in ("Dockerfile", "svc/api.dockerfile", "svc/Dockerfile-prod"):
        (project / path).write_text(GOOD)
    _git(project, env, "add", "-A")
    proc = _pre_commit(project, env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert out.count("Passed") == 2, out
