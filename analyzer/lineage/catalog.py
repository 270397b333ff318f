"""Where the Dockerfiles of images live: the user's catalogs, then the built-in one.

A catalog file (``--catalog FILE`` or the config's ``catalog:`` key) is YAML::

    images:
      - image: registry.example.com/team/base      # any tag; may end in :TAG or use *
        dockerfile: https://git.example.com/raw/base/{tag}/Dockerfile   # URL or path
        build_args: {PYTHON_VERSION: "3.12"}        # optional

``{tag}`` is replaced by the reference's tag (``latest`` when none); ``{name}`` by the last
component of the repository path. A relative path is relative to the catalog file.
``dockerfile`` may also be a list of locations tried in order.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..images import ImageRef, InvalidReference, parse_ref
from ..model import AnalyzerError

RAW_GITHUB = "https://raw.githubusercontent.com"
DOCKER_STACKS = f"{RAW_GITHUB}/jupyter/docker-stacks"
# the last commit whose images lived at <name>/Dockerfile (the Docker Hub era layout)
DOCKER_STACKS_OLD_LAYOUT_REF = "0005cd53f878e8b9df125909103313a95da87bec"
DOCKER_STACKS_IMAGES = (
    "docker-stacks-foundation", "base-notebook", "minimal-notebook", "scipy-notebook",
    "r-notebook", "julia-notebook", "tensorflow-notebook", "pytorch-notebook",
    "datascience-notebook", "pyspark-notebook", "all-spark-notebook",
)


class CatalogError(AnalyzerError):
    pass


@dataclass(frozen=True)
class CatalogEntry:
    """A catalog entry: an image pattern and where its Dockerfile lives."""

    image: str  # pattern as written
    dockerfiles: tuple[str, ...]  # location templates
    build_args: tuple[tuple[str, str], ...] = ()
    origin: str = "builtin"  # the catalog file, or "builtin"
    base_dir: Optional[str] = None  # for relative paths

    def matches(self, ref: ImageRef) -> bool:
        pattern = self.image.strip()
        if any(ch in pattern for ch in "*?["):
            names = {ref.name, ref.familiar_name}
            tag = ref.tag or "latest"
            candidates = {n for n in names} | {f"{n}:{tag}" for n in names}
            return any(fnmatch.fnmatchcase(c, pattern) for c in candidates)
        try:
            want = parse_ref(pattern)
        except InvalidReference:
            return False
        if want.name != ref.name:
            return False
        if want.explicit_tag and (ref.tag or "latest") != want.tag:
            return False
        return True

    def locations(self, ref: ImageRef) -> list[str]:
        tag = ref.tag or "latest"
        name = ref.path.rsplit("/", 1)[-1]
        out = []
        for template in self.dockerfiles:
            loc = template.replace("{tag}", tag).replace("{name}", name)
            if "://" not in loc and self.base_dir and not os.path.isabs(loc):
                loc = str(Path(self.base_dir) / loc)
            out.append(loc)
        return out


@dataclass
class Catalog:
    """The catalog entries in order of precedence."""

    entries: list[CatalogEntry] = field(default_factory=list)

    def find(self, ref: ImageRef) -> Optional[CatalogEntry]:
        for entry in self.entries:
            if entry.matches(ref):
                return entry
        return None


def load_file(path: str) -> list[CatalogEntry]:
    import yaml

    from ..files import read_regular

    p = Path(path)
    limit = 16 << 20
    try:
        data = read_regular(path, limit + 1)  # a FIFO or device is refused, not read
        if len(data) > limit:
            raise CatalogError(f"catalog {path}: larger than {limit:,} bytes")
        text = data.decode("utf-8")
    except (AnalyzerError, UnicodeDecodeError) as exc:
        if isinstance(exc, CatalogError):
            raise
        raise CatalogError(f"catalog {path}: cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise CatalogError(f"catalog {path}: invalid YAML") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise CatalogError(f"catalog {path}: expected a mapping with an 'images' list")
    entries = []
    for i, item in enumerate(data["images"], start=1):
        where = f"catalog {path}: entry {i}"
        if not isinstance(item, dict) or not isinstance(item.get("image"), str):
            raise CatalogError(f"{where}: needs 'image'")
        loc = item.get("dockerfile")
        if isinstance(loc, str):
            locs = (loc,)
        elif isinstance(loc, list) and loc and all(isinstance(x, str) for x in loc):
            locs = tuple(loc)
        else:
            raise CatalogError(f"{where}: needs 'dockerfile' (a URL or path, or a list of them)")
        args = item.get("build_args") or {}
        if not isinstance(args, dict):
            raise CatalogError(f"{where}: 'build_args' must be a mapping")
        entries.append(
            CatalogEntry(
                image=item["image"],
                dockerfiles=locs,
                build_args=tuple((str(k), str(v)) for k, v in args.items()),
                origin=str(p),
                base_dir=str(p.resolve().parent),
            )
        )
    return entries


def builtin_entries() -> list[CatalogEntry]:
    """jupyter/docker-stacks in both layouts. Official images go through their manifest."""
    out = []
    for image in DOCKER_STACKS_IMAGES:
        out.append(
            CatalogEntry(
                image=f"quay.io/jupyter/{image}",
                dockerfiles=(f"{DOCKER_STACKS}/main/images/{image}/Dockerfile",),
            )
        )
        out.append(
            CatalogEntry(
                image=f"docker.io/jupyter/{image}",
                dockerfiles=(
                    f"{DOCKER_STACKS}/main/images/{image}/Dockerfile",
                    f"{DOCKER_STACKS}/{DOCKER_STACKS_OLD_LAYOUT_REF}/{image}/Dockerfile",
                ),
                # the Docker Hub images were built from the same files with these arguments
                build_args=(("REGISTRY", "docker.io"), ("OWNER", "jupyter")),
            )
        )
    return out


def build_catalog(user_files: list[str]) -> Catalog:
    entries: list[CatalogEntry] = []
    for f in user_files:
        entries.extend(load_file(f))
    entries.extend(builtin_entries())
    return Catalog(entries)
