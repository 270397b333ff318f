"""Docker official images: the official-images manifest says which Dockerfile builds a tag.

The manifest (``library/<name>`` in docker-library/official-images) is RFC 2822-style
paragraphs: ``Tags``, ``SharedTags``, ``Architectures``, ``GitRepo``, ``GitCommit``,
``Directory``, optional ``File``, and per-architecture overrides such as
``amd64-GitCommit``. The first paragraph holds defaults for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..images import ImageRef

MANIFEST_URL = "https://raw.githubusercontent.com/docker-library/official-images/master/library/{name}"


@dataclass(frozen=True)
class OfficialBuild:
    """Where an official image tag is built from: repository, commit, directory."""

    tag: str
    git_repo: str
    git_commit: str
    directory: str
    file: str

    @property
    def dockerfile_url(self) -> str:
        repo = self.git_repo
        for prefix in ("https://github.com/", "git://github.com/", "http://github.com/"):
            if repo.startswith(prefix):
                repo = repo[len(prefix):]
        if repo.endswith(".git"):
            repo = repo[:-4]
        repo = repo.rstrip("/")
        path = "/".join(p for p in (self.directory.strip("/"), self.file) if p and p != ".")
        return f"https://raw.githubusercontent.com/{repo}/{self.git_commit}/{path}"


def is_official(ref: ImageRef) -> bool:
    return ref.domain == "docker.io" and ref.path.startswith("library/") and ref.path.count("/") == 1


def parse_manifest(text: str) -> list[dict[str, str]]:
    """Paragraphs of ``Key: value`` lines (continuation lines start with a blank)."""
    paragraphs: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last_key = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            if current:
                paragraphs.append(current)
                current, last_key = {}, None
            continue
        if line.lstrip().startswith("#"):
            continue
        if line[0] in " \t" and last_key:
            current[last_key] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        last_key = key.strip()
        current[last_key] = value.strip()
    if current:
        paragraphs.append(current)
    return paragraphs


def _tags(value: str) -> list[str]:
    return [t.strip() for t in value.replace("\n", ",").split(",") if t.strip()]


def find_build(text: str, tag: str, arch: str = "amd64") -> Optional[OfficialBuild]:
    paragraphs = parse_manifest(text)
    if not paragraphs:
        return None
    defaults = paragraphs[0] if "Tags" not in paragraphs[0] else {}
    for para in paragraphs:
        tags = _tags(para.get("Tags", "")) + _tags(para.get("SharedTags", ""))
        if tag not in tags:
            continue

        def get(key: str, default: str = "") -> str:
            for k in (f"{arch}-{key}", key):
                if k in para:
                    return para[k]
                if k in defaults:
                    return defaults[k]
            return default

        repo = get("GitRepo")
        commit = get("GitCommit")
        if not repo or not commit:
            return None
        return OfficialBuild(tag, repo, commit, get("Directory", "."), get("File", "Dockerfile"))
    return None
