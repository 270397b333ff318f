"""Where the analyzer keeps what it fetched and what it recorded.

``--cache-dir DIR`` wins, then the environment variable ``ANALYZE_CACHE_DIR``, then the
platform's user cache dir (``~/.cache/analyze`` on Linux).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

ENV_VAR = "ANALYZE_CACHE_DIR"


def cache_root(option: Optional[str] = None) -> Path:
    if option:
        return Path(option).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("analyze"))


def cache_subdir(name: str, option: Optional[str] = None) -> Path:
    """``<root>/<name>`` (created lazily by whoever writes there)."""
    return cache_root(option) / name
