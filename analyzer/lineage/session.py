"""Putting the lineage parts together for one run of the analyzer."""

from __future__ import annotations

import os
from typing import Optional

# ANALYZE_LAYERS=1: list the layers of images read from any registry (downloads them);
# registries on localhost and 127.0.0.0/8 have their layers listed always
LAYERS_ENV = "ANALYZE_LAYERS"


def _registry(root, *, offline: bool, platform: str, log: list, use_cache: bool):
    """The registry client the resolver tries last; None without a cache (the built-in
    resolver of the rule examples asks nobody) or for a platform it cannot take."""
    from analyzer.lineage.registry import Registry, RegistryError

    if not use_cache:
        return None
    try:
        registry = Registry(root, offline=offline, platform=platform)
    except RegistryError:
        return None
    registry.log = log
    return registry


def _engine():
    """The local Docker engine, unless ``ANALYZE_DOCKER=none`` says not to use Docker."""
    if os.environ.get("ANALYZE_DOCKER", "").strip().lower() == "none":
        return None
    from analyzer.lineage.engine import Engine

    return Engine.find()


def make_resolver(*, cache_dir: Optional[str] = None, offline: bool = False, catalogs=(), platform: str = "linux/amd64", log=None, use_cache: bool = True, list_layers: bool = False):
    from analyzer.cachedir import cache_root
    from analyzer.lineage.catalog import build_catalog
    from analyzer.lineage.fetch import Fetcher
    from analyzer.lineage.resolve import Resolver

    root = cache_root(cache_dir) if use_cache else None
    fetcher = Fetcher(root, offline=offline)
    def registry():
        return _registry(root, offline=offline, platform=platform, log=fetcher.log, use_cache=use_cache)

    resolver = Resolver(
        build_catalog(list(catalogs)), fetcher, platform=platform, log=log, registry=registry,
        list_layers=list_layers or os.environ.get(LAYERS_ENV, "") == "1",
        engine=_engine if use_cache else None,
    )
    resolver.fetcher = fetcher
    return resolver


def builtin_resolver(platform: str = "linux/amd64"):
    """Built-in knowledge only: no network, no cache (what the rule examples run with)."""
    return make_resolver(offline=True, use_cache=False, platform=platform)


def analyze_file(df, resolver, *, build_args=None, target=None, platform: str = "linux/amd64"):
    from analyzer.lineage.analysis import analyze

    return analyze(df, resolver=resolver, build_args=build_args, target=target, platform=platform, offline=getattr(resolver.fetcher, "offline", False))
