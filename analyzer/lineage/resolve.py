"""Follow FROM from an image up to a root, from the real sources where they can be had.

For each image, in this order: the user's catalog entries; a known root (debian, ubuntu,
alpine, busybox: their contents come from knowledge, not from a Dockerfile); the built-in
catalog (jupyter/docker-stacks); the Docker official images' manifest; built-in knowledge
of well-known images; the official images' parents table (parent only); last, the image's
registry (its config, and its layers' listings: always for registries on localhost and
127.0.0.0/8, elsewhere with --layers or ANALYZE_LAYERS=1). Every Dockerfile
found is parsed and expanded like the user's own (its own ARG defaults, the catalog's
build args over them); the stage that builds the image is its last stage, and stages it
is built FROM within the same file are walked too. Fetched files are only parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..images import ImageRef, InvalidReference, is_scratch, looks_dynamic, parse_ref
from ..model import AnalyzerError, Dockerfile, Stage
from .fetch import FetchError, OfflineMiss, _shown

MAX_DEPTH = 25
# words of a FetchError that mean the host did not answer at all
_UNREACHABLE = (
    "timed out", "could not connect", "cannot resolve", "name or service not known",
    "temporary failure in name resolution", "connection refused", "network is unreachable",
    "no route to host", "failed to resolve", "nodename nor servname", "connection reset",
    "max retries exceeded", "no address associated",
)


@dataclass
class ImageDef:
    """One image of a chain."""

    image: str  # display name, e.g. quay.io/jupyter/scipy-notebook:latest
    kind: str  # dockerfile | root | builtin | registry | scratch | unresolved
    source: str  # URL or path of the Dockerfile, "builtin", "" when unknown
    parent: Optional[str] = None
    ref: Optional[ImageRef] = None
    dockerfile: Optional[Dockerfile] = None
    stages: list = field(default_factory=list)  # stages to walk, first built first
    build_args: dict = field(default_factory=dict)
    known: object = None  # built-in knowledge (root inventory or known image)
    note: str = ""  # e.g. "built-in knowledge as of 2025-06"
    errors: list = field(default_factory=list)
    from_cache: bool = False
    parent_display: Optional[str] = None  # the parent's display name once resolved
    registry: object = None  # analyzer.lineage.layers.RegistryImage for kind "registry"

    def as_json(self) -> dict:
        parent = self.parent_display if self.parent_display is not None else self.parent
        out = {"image": self.image, "source": self.source, "parent": parent, "kind": self.kind}
        if self.note:
            out["note"] = self.note
        if self.errors:
            out["errors"] = list(self.errors)
        return out


class SkippedFetch(FetchError):
    """A request not sent because its host failed earlier in this run."""


def display_name(ref: ImageRef) -> str:
    name = ref.familiar_name
    text = f"{name}:{ref.tag or 'latest'}" if (ref.tag or not ref.digest) else name
    if ref.digest:
        text += f"@{ref.digest}"
    return text


def stage_chain(df: Dockerfile, resolution, index: int) -> tuple[list[Stage], Optional[str], bool]:
    """Stages from the first one built to ``index`` (inclusive), following FROM <stage>,
    and the external base image of the first one (None for scratch)."""
    chain: list[Stage] = []
    seen = set()
    i = index
    while i is not None and i not in seen:
        seen.add(i)
        stage = df.stages[i]
        chain.append(stage)
        rs = resolution.stages[i]
        if rs.base_stage is not None and rs.base_stage < i:
            i = rs.base_stage
            continue
        chain.reverse()
        base = rs.base_image if not rs.base_unresolved else stage.base
        return chain, base, rs.base_unresolved
    chain.reverse()
    return chain, None, True


class Resolver:
    def __init__(self, catalog, fetcher, *, platform: str = "linux/amd64", log=None, registry=None, list_layers: bool = False, engine=None):
        self.catalog = catalog
        self.fetcher = fetcher
        self.platform = platform
        # analyzer.lineage.registry.Registry (or a function making it), the last remote source
        self.registry = registry
        # analyzer.lineage.engine.Engine (or a function making it): the local Docker engine,
        # asked when no other source knows the image (a locally built image, or --offline)
        self.engine = engine
        self.list_layers = list_layers  # list layers of remote registries too (downloads them)
        self.log = log if log is not None else []
        self._memo: dict[str, list[ImageDef]] = {}
        self._down: dict[str, str] = {}  # host -> why it is not tried again in this run

    def _get(self, location: str, expect: str):
        """Fetch through the fetcher, skipping hosts that already failed to answer: one
        unreachable host (no network, a dead server) costs one time-out per run, not one
        per image."""
        from urllib.parse import urlsplit

        host = urlsplit(location).netloc.rpartition("@")[2] if "://" in location else ""
        if host and host in self._down:
            raise SkippedFetch(f"GET {_shown(location)}: skipped ({host} did not answer earlier: {self._down[host]})")
        try:
            return self.fetcher.get_text(location, expect=expect)
        except FetchError as exc:
            text = str(exc).lower()
            if host and any(w in text for w in _UNREACHABLE):
                self._down[host] = str(exc).split(": ", 1)[-1]
            raise

    # -- public --------------------------------------------------------------------
    def chain(self, image: str) -> list[ImageDef]:
        """The chain from ``image`` (first) up to its root (last)."""
        out: list[ImageDef] = []
        visited: list[str] = []
        current: Optional[str] = image
        while current is not None:
            if len(out) >= MAX_DEPTH:
                out[-1].errors.append(
                    f"{out[0].image}: parent chain longer than {MAX_DEPTH} images; stopped after {out[-1].image} "
                    f"(its parent {current} and what lies above it are unknown)"
                )
                break
            d = self.image_def(current)
            key = d.ref.normalized if d.ref is not None else d.image
            if key in visited:
                start = visited.index(key)
                cycle = " -> ".join([x.image for x in out[start:]] + [d.image])
                if out:
                    out[-1].errors.append(f"{out[0].image}: FROM cycle: {cycle}; the chain stops there")
                    out[-1].parent = None
                break
            visited.append(key)
            if out:
                out[-1].parent_display = d.image
            out.append(d)
            current = d.parent
        return out

    def image_def(self, image: str) -> ImageDef:
        if image in self._memo:
            return self._memo[image][0]
        d = self._resolve(image)
        self._memo[image] = [d]
        return d

    # -- one image -----------------------------------------------------------------
    def _resolve(self, image: str) -> ImageDef:
        from ..knowledge import images as known_images
        from ..knowledge import roots

        if is_scratch(image):
            return ImageDef("scratch", "scratch", "", None)
        if looks_dynamic(image):
            return ImageDef(image, "unresolved", "", None, errors=[f"FROM {image}: a variable with no value"])
        try:
            ref = parse_ref(image)
        except InvalidReference as exc:
            return ImageDef(image, "unresolved", "", None, errors=[str(exc)])
        name = display_name(ref)
        errors: list[str] = []

        entry = self.catalog.find(ref) if self.catalog is not None else None
        if entry is not None and entry.origin != "builtin":
            d = self._from_entry(ref, name, entry, errors)
            if d is not None:
                return d
        root = roots.root_for(ref.normalized)
        if root is not None:
            return ImageDef(name, "root", "builtin", None, ref=ref, known=root, note=_known_note(root), errors=errors)
        if entry is not None and entry.origin == "builtin":
            d = self._from_entry(ref, name, entry, errors)
            if d is not None:
                return d
        from .official import is_official

        if is_official(ref):
            d = self._from_official(ref, name, errors)
            if d is not None:
                return d
        known = known_images.known_image(ref.normalized)
        if known is not None:
            return ImageDef(name, "builtin", "builtin", known.parent, ref=ref, known=known, note=_known_note(known), errors=errors)
        if is_official(ref):
            parent = known_images.official_parent(ref.normalized)
            if parent is not None:
                parent_name = parent[0]
                return ImageDef(
                    name, "builtin", "builtin", None if parent_name in ("(root)",) else parent_name, ref=ref,
                    note="parent from the official images' table (contents unknown)", errors=errors,
                )
        d = self._from_registry(ref, name, errors)
        if d is not None:
            return d
        d = self._from_engine(ref, name, [])  # what the registry said no longer matters
        if d is not None:
            return d
        if getattr(self.fetcher, "offline", False) and not errors:
            errors = [f"{name}: not in the cache and not in the built-in knowledge (offline)"]
        return ImageDef(name, "unresolved", "", None, ref=ref, errors=errors or [f"{name}: no catalog entry, no known Dockerfile"])

    def _from_entry(self, ref: ImageRef, name: str, entry, errors: list) -> Optional[ImageDef]:
        for location in entry.locations(ref):
            try:
                fetched = self._get(location, "dockerfile")
            except SkippedFetch:
                continue
            except FetchError as exc:
                if not _offline_miss(exc):
                    errors.append(f"{name}: {exc}")
                continue
            # the source as shown (lineage, --explain, notes): a password in the URL masked
            d = self._from_text(ref, name, _shown(location), fetched.text, dict(entry.build_args), errors)
            if d is not None:
                d.from_cache = bool(getattr(fetched, "from_cache", False))
                return d
        return None

    def _from_official(self, ref: ImageRef, name: str, errors: list) -> Optional[ImageDef]:
        from .official import MANIFEST_URL, find_build

        repo = ref.path.split("/", 1)[1]
        url = MANIFEST_URL.format(name=repo)
        try:
            manifest = self._get(url, "text")
        except SkippedFetch:
            return None
        except FetchError as exc:
            if not _offline_miss(exc):
                errors.append(f"{name}: {exc}")
            return None
        arch = self.platform.split("/")[1] if "/" in self.platform else "amd64"
        arch = {"arm64": "arm64v8"}.get(arch, arch)
        build = find_build(manifest.text, ref.tag or "latest", arch)
        if build is None:
            errors.append(f"{name}: {url}: no tag {ref.tag or 'latest'}")
            return None
        try:
            fetched = self._get(build.dockerfile_url, "dockerfile")
        except SkippedFetch:
            return None
        except FetchError as exc:
            if not _offline_miss(exc):
                errors.append(f"{name}: {exc}")
            return None
        return self._from_text(ref, name, build.dockerfile_url, fetched.text, {}, errors)

    def _from_text(self, ref, name, source, text, build_args, errors) -> Optional[ImageDef]:
        from ..expand import resolve
        from ..parse import parse

        try:
            df = parse(text, source)
            resolution = resolve(df, build_args, self.platform)
        except AnalyzerError as exc:
            errors.append(f"{name}: {source}: {exc}")
            return None
        if not df.stages:
            errors.append(f"{name}: {source}: no FROM")
            return None
        stages, base, unresolved = stage_chain(df, resolution, len(df.stages) - 1)
        parent = None
        if base is not None and not is_scratch(base):
            parent = base
        if unresolved and base is not None:
            errors.append(f"{name}: {source}: FROM {base} does not resolve")
        return ImageDef(name, "dockerfile", source, parent, ref=ref, dockerfile=df, stages=stages, build_args=build_args, errors=errors)


    # -- the registry: config and layers -------------------------------------------------
    def _from_registry(self, ref: ImageRef, name: str, errors: list) -> Optional[ImageDef]:
        from .registry import RegistryError, _plain_http_host

        reg = self.registry
        if callable(reg) and not hasattr(reg, "resolve"):
            reg = self.registry = reg()  # created on first use: most runs never need it
        if reg is None:
            return None
        host = ref.api_host
        key = f"registry:{host}"
        if key in self._down:
            return None
        try:
            resolved = reg.resolve(ref)
            config = reg.config(resolved)
        except RegistryError as exc:
            text = str(exc)
            if "(offline)" in text:
                return None
            if any(w in text.lower() for w in ("cannot reach", "timed out")):
                self._down[key] = text
            errors.append(text)
            return None
        from .layers import RegistryImage, RegistryLayer, layer_history  # only for an image found

        history = [
            (str(h.get("created_by") or ""), bool(h.get("empty_layer")))
            for h in (config.get("history") or []) if isinstance(h, dict)
        ]
        texts = layer_history(config, len(resolved.layers))
        layers = [RegistryLayer(i, desc.digest, texts[i]) for i, desc in enumerate(resolved.layers)]
        image = RegistryImage(
            host=host, repository=ref.path, digest=resolved.digest,
            config=config.get("config") if isinstance(config.get("config"), dict) else {},
            history=history, layers=layers,
        )
        if self.list_layers or _plain_http_host(host):
            for layer, desc in zip(layers, resolved.layers):
                try:
                    layer.listing = self._listing(reg, resolved, desc)
                except RegistryError as exc:
                    if "(offline)" not in str(exc):
                        errors.append(str(exc))
                    break
            notes = [l.listing.note for l in layers if l.listing is not None and l.listing.note]
            if notes:
                image.note = notes[0]
            elif not image.listed:
                image.note = "layers not listed"
        else:
            image.note = "layers not listed (--layers or ANALYZE_LAYERS=1 lists them; it downloads every layer)"
        source = f"registry:{host}/{ref.path}@{resolved.digest}"
        note = "image config and layers from the registry" if image.listed else f"image config from the registry; {image.note}"
        return ImageDef(name, "registry", source, None, ref=ref, note=note, errors=errors, registry=image)

    # -- the local Docker engine: config, history and layers ------------------------
    def _from_engine(self, ref: ImageRef, name: str, errors: list) -> Optional[ImageDef]:
        from .engine import EngineError

        engine = self.engine
        if callable(engine) and not hasattr(engine, "inspect"):
            engine = self.engine = engine()
        if engine is None or "engine" in self._down:
            return None
        wanted = ref.familiar if ref.digest is None else f"{ref.familiar.split('@')[0]}@{ref.digest}"
        try:
            inspect = engine.inspect(wanted)
            if inspect is None:
                return None
            image_id = str(inspect.get("Id") or "")
            rootfs = inspect.get("RootFS") if isinstance(inspect.get("RootFS"), dict) else {}
            diff_ids = [str(d) for d in rootfs.get("Layers") or () if isinstance(d, str)]
            from .layers import RegistryImage, RegistryLayer, layer_history  # only for an image found

            history = _engine_history(engine.history(image_id), len(diff_ids))
            listings = engine.list_layers(image_id, len(diff_ids)) if diff_ids else []
        except EngineError as exc:
            text = str(exc)
            if any(w in text.lower() for w in ("timed out", "refused", "no such socket", "permission denied")):
                self._down["engine"] = text
                return None  # no engine to ask is not an error of the image
            errors.append(text)
            return None
        texts = layer_history({"history": [{"created_by": c, "empty_layer": e} for c, e in history]}, len(diff_ids))
        layers = [RegistryLayer(i, d, texts[i], listings[i] if i < len(listings) else None) for i, d in enumerate(diff_ids)]
        config = inspect.get("Config") if isinstance(inspect.get("Config"), dict) else {}
        image = RegistryImage(host="docker-engine", repository=ref.path, digest=image_id, config=config, history=history, layers=layers)
        if not image.listed:
            image.note = next((l.listing.note for l in layers if l.listing is not None and l.listing.note), "layers not listed")
        source = f"docker-engine:{ref.familiar}@{image_id}"
        note = "image config, history and layers from the local Docker engine" if image.listed else f"image config from the local Docker engine; {image.note}"
        return ImageDef(name, "registry", source, None, ref=ref, note=note, errors=errors, registry=image)

    def _listing(self, reg, resolved, desc):
        """A layer's listing, from the listing cache or by reading the blob (verified)."""
        from ..cachedir import dumps_checked, read_checked, write_atomic
        from .layers import LayerListing, list_layer

        cached = None
        if reg.root is not None:
            cached = reg.root / "listings" / f"{desc.digest.split(':', 1)[-1]}.json"
            data = read_checked(cached)  # None when missing or damaged (checksum)
            if data is not None and data.get("digest") == desc.digest:
                try:
                    return LayerListing.from_json(data)
                except (ValueError, TypeError, AttributeError):
                    pass
        blob = reg.open_blob(resolved, desc.digest, size=desc.size)
        try:
            listing = list_layer(blob)
            if listing.complete:
                blob.drain()  # verifies the digest before anything is trusted or cached
        finally:
            blob.close()
        if listing.complete and cached is not None and not reg._cache_warned:
            try:
                write_atomic(cached, dumps_checked(dict(listing.as_json(), digest=desc.digest)))
            except OSError as exc:
                reg._cache_warning(exc)
        return listing


def _engine_history(rows: list, layers: int) -> list:
    """The engine's history as ``[(created_by, empty_layer)]``: it gives sizes, not the
    empty-layer flag, and a step can make a layer of size 0 (``RUN true``); when the sizes
    do not account for every layer, only metadata steps (``#(nop)`` without COPY/ADD, or
    BuildKit's ENV/LABEL/... lines) count as empty."""
    if sum(1 for _c, empty in rows if not empty) == layers:
        return rows
    out = []
    for created_by, empty in rows:
        text = " ".join(created_by.split())
        meta = ("#(nop)" in text and not any(w in text for w in (" COPY ", " ADD "))) or text.split(" ", 1)[0] in (
            "ENV", "LABEL", "CMD", "ENTRYPOINT", "EXPOSE", "USER", "WORKDIR", "ARG", "SHELL", "STOPSIGNAL", "HEALTHCHECK", "VOLUME", "ONBUILD", "MAINTAINER",
        )
        out.append((created_by, empty and meta))
    return out


def _offline_miss(exc) -> bool:
    return isinstance(exc, OfflineMiss)


def _known_note(known) -> str:
    as_of = getattr(known, "as_of", "")
    source = getattr(known, "source", "")
    text = "built-in knowledge"
    if as_of:
        text += f" as of {as_of}"
    if source:
        text += f" ({source})"
    return text
