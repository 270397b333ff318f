"""Putting the lineage parts together for one run of the analyzer."""

from __future__ import annotations

from typing import Optional


def make_resolver(*, cache_dir: Optional[str] = None, offline: bool = False, catalogs=(), platform: str = "linux/amd64", log=None, use_cache: bool = True):
    from ..cachedir import cache_root
    from .catalog import build_catalog
    from .fetch import Fetcher
    from .resolve import Resolver

    root = cache_root(cache_dir) if use_cache else None
    fetcher = Fetcher(root, offline=offline)
    resolver = Resolver(build_catalog(list(catalogs)), fetcher, platform=platform, log=log)
    resolver.fetcher = fetcher
    return resolver


def builtin_resolver(platform: str = "linux/amd64"):
    """Built-in knowledge only: no network, no cache (what the rule examples run with)."""
    return make_resolver(offline=True, use_cache=False, platform=platform)


def analyze_file(df, resolver, *, build_args=None, target=None, platform: str = "linux/amd64"):
    from .analysis import analyze

    return analyze(df, resolver=resolver, build_args=build_args, target=target, platform=platform, offline=getattr(resolver.fetcher, "offline", False))
