"""Shared by the test_cache_* files (no tests here): a build context in a temp directory;
write files, record a build, change things, plan."""

from __future__ import annotations

import os
from pathlib import Path

from analyzer.cache import PlanOptions, plan, record
from analyzer.parse import parse


class Project:
    def __init__(self, root: Path, dockerfile: str, files: dict | None = None, builder: str = "buildkit"):
        self.root = root / "ctx"
        self.root.mkdir(parents=True, exist_ok=True)
        self.cache = root / "cache"
        self.builder = builder
        self.dockerfile(dockerfile)
        for name, text in (files or {}).items():
            self.write(name, text)

    def dockerfile(self, text: str) -> None:
        self.write("Dockerfile", text)

    def write(self, name: str, text: str, mode: int | None = None) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def parsed(self):
        path = self.root / "Dockerfile"
        return parse(path.read_text(), str(path))

    def options(self, **kw) -> PlanOptions:
        kw.setdefault("builder", self.builder)
        kw.setdefault("cache_dir", str(self.cache))
        kw.setdefault("docker", None)
        kw.setdefault("fetch", False)
        return PlanOptions(**kw)

    def record(self, **kw):
        return record(self.parsed(), self.options(**kw))

    def plan(self, **kw):
        return plan(self.parsed(), self.options(**kw))

    def outcomes(self, **kw) -> list[tuple[str, str, str]]:
        """``[(instruction, prediction, reason)]``."""
        return [(s.instruction, s.prediction, s.reason) for s in self.plan(**kw).steps]


def by_instruction(p, text: str):
    for s in p.steps:
        if s.instruction == text:
            return s
    raise AssertionError(f"no step {text!r} in {[s.instruction for s in p.steps]}")
