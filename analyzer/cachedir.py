"""Where the analyzer keeps what it fetched and what it recorded, and how it writes there.

``--cache-dir DIR`` wins, then the environment variable ``ANALYZE_CACHE_DIR``, then the
platform's user cache dir (``~/.cache/analyze`` on Linux).

* Every entry is written whole or not at all (:func:`write_atomic`): into a temporary file
  in the entry's own directory (its name starts with ``.tmp-``), then renamed over the final
  name with ``os.replace`` (atomic within a directory). Readers only open final names, so a
  crash, a kill or a full disk in the middle of a write leaves at most an orphaned ``.tmp-``
  file, never part of an entry; when several processes write the same entry, each renames a
  complete file and the last one wins (on Windows, where a rename onto a file another
  process has open fails, it is retried briefly, then left to that file). Nothing is
  fsynced: after a power cut an entry may be old, empty or damaged, and the checks below
  catch the last two.
* Entries not named by the sha256 of their content carry one (:func:`seal` for bytes,
  :func:`dumps_checked` for JSON objects). A truncated, bit-flipped or garbage entry reads as
  absent (:func:`unseal`, :func:`loads_checked` give None): the caller fetches or computes it
  again and writes it anew.
* A cache that cannot be written (read-only, full, not a directory) only costs time: the
  writer stops writing, and the first such failure of a process prints one line on stderr
  (:func:`warn`), whatever part of the analyzer met it.
"""

from __future__ import annotations

import _thread
import errno
import os
import sys
from pathlib import Path
from typing import Any, Optional, Union

ENV_VAR = "ANALYZE_CACHE_DIR"
TEMP_PREFIX = ".tmp-"  # temporary files; never read, safe to delete when no analyze runs
CHECK_KEY = "checksum"  # the key of the sha256 in a checked JSON object
_WINDOWS = os.name == "nt"
_BUSY_RETRIES = 5  # renames retried while Windows says the target is in use (0.15 s in all)
_SEAL = b"sha256:"  # sealed bytes: b"sha256:<64 hex>\n" + payload
_SEAL_LEN = len(_SEAL) + 64 + 1


def sha256(data: bytes = b""):
    """A SHA-256 object, as ``hashlib.sha256``; from the interpreter's own module when it
    has one, which spares loading OpenSSL (3 ms of a small run) for the cache's seals."""
    global sha256
    try:
        from _sha256 import sha256 as impl  # CPython 3.11
    except ImportError:
        try:
            from _sha2 import sha256 as impl  # CPython 3.12+
        except ImportError:
            from hashlib import sha256 as impl
    sha256 = impl
    return impl(data)


def cache_root(option: Optional[str] = None) -> Path:
    if option:
        return Path(option).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return user_dir("cache")


def user_dir(kind: str) -> Path:
    """platformdirs' ``user_cache_dir("analyze")`` or ``user_config_dir("analyze")``
    (``kind`` "cache" or "config"); on Linux (an absolute ``$XDG_CACHE_HOME`` /
    ``$XDG_CONFIG_HOME``, else ``~/.cache`` / ``~/.config``) without importing it."""
    if sys.platform.startswith("linux"):
        var, default = {"cache": ("XDG_CACHE_HOME", "~/.cache"), "config": ("XDG_CONFIG_HOME", "~/.config")}[kind]
        xdg = os.environ.get(var, "")
        return Path(xdg if os.path.isabs(xdg) else os.path.expanduser(default)) / "analyze"
    import platformdirs

    return Path(getattr(platformdirs, f"user_{kind}_dir")("analyze"))


def cache_subdir(name: str, option: Optional[str] = None) -> Path:
    """``<root>/<name>`` (created lazily by whoever writes there)."""
    return cache_root(option) / name


# -- writing -----------------------------------------------------------------------------------


def write_atomic(path: Union[str, Path], data: Union[bytes, str], *, dir_mode: int = 0o777) -> None:
    """Put ``data`` at ``path`` so that a reader sees the old entry or the whole new one.

    Raises ``OSError`` (the temporary file removed) when the directory cannot be created or
    the data cannot be written; the final name is then untouched."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(mode=dir_mode, parents=True, exist_ok=True)
    fd, tmp = temp_fd(path)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            if written <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
            view = view[written:]
        os.close(fd)
        fd = -1
        if not _rename(tmp, path):
            os.unlink(tmp)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _rename(tmp: str, path: Path) -> bool:
    """``os.replace``; False when Windows keeps refusing because another process has the
    entry open (its entry stays: the same content, or one a later run writes again)."""
    for attempt in range(_BUSY_RETRIES + 1):
        try:
            os.replace(tmp, path)
            return True
        except PermissionError:
            # POSIX: the directory is not writable. On Windows the temporary file was just
            # created in that directory, so the target is busy (a reader has it open)
            if not _WINDOWS:
                raise
            if attempt == _BUSY_RETRIES:
                return False
            import time

            time.sleep(0.01 * (attempt + 1))
    return False


STALE_TEMP_SECONDS = 6 * 3600  # a temporary file this old was left by a killed process
_swept: set = set()


def sweep_stale_temps(directory: Union[str, Path], now: Optional[float] = None) -> int:
    """Remove the temporary files a killed process left in ``directory`` (untouched for
    :data:`STALE_TEMP_SECONDS`: a writer that is alive keeps its file's time recent); the
    number removed. Errors are ignored: another process may be sweeping too."""
    import time

    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        if not (entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(".part")):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMP_SECONDS:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def temp_fd(final: Path) -> tuple[int, str]:
    """A new temporary file (fd open for writing, name) in ``final``'s directory; the first
    time a process writes in a directory, the stale temporary files there are removed."""
    import tempfile

    directory = str(final.parent)
    if directory not in _swept:
        _swept.add(directory)
        sweep_stale_temps(directory)
    return tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=directory)


# -- checking ----------------------------------------------------------------------------------


def seal(payload: bytes) -> bytes:
    """``payload`` with its sha256 in front (what :func:`unseal` checks)."""
    return _SEAL + sha256(payload).hexdigest().encode("ascii") + b"\n" + payload


def unseal(data: Optional[bytes]) -> Optional[bytes]:
    """The payload of sealed ``data``, or None when it is missing, cut short or altered."""
    if not data or len(data) < _SEAL_LEN or not data.startswith(_SEAL) or data[_SEAL_LEN - 1 : _SEAL_LEN] != b"\n":
        return None
    payload = data[_SEAL_LEN:]
    if sha256(payload).hexdigest().encode("ascii") != data[len(_SEAL) : _SEAL_LEN - 1]:
        return None
    return payload


def dumps_checked(obj: dict) -> str:
    """Compact JSON text of ``obj`` ending with a ``checksum`` key: the sha256 of the text
    the object has without it (so checking costs a hash, not a second serialisation)."""
    import json

    body = {k: v for k, v in obj.items() if k != CHECK_KEY}
    text = json.dumps(body, separators=(",", ":"))  # ASCII only (ensure_ascii)
    digest = sha256(text.encode("ascii")).hexdigest()
    return f'{text[:-1]}{"," if body else ""}"{CHECK_KEY}":"sha256:{digest}"}}'


_TAIL = f'"{CHECK_KEY}":"sha256:'.encode("ascii")


def loads_checked(data: Union[str, bytes, None], *, legacy: bool = False) -> Optional[dict]:
    """The object :func:`dumps_checked` wrote, without its checksum; None when ``data`` is
    not such an object or its checksum does not match. ``legacy=True`` also accepts a JSON
    object with no checksum at all (entries written before there was one)."""
    if data is None:
        return None
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError:
            return None
    data = data.rstrip()
    at = data.rfind(_TAIL)
    if at >= 0:
        claimed, end = data[at + len(_TAIL):-2], data[-2:]
        head = data[:at]
        body = head[:-1] + b"}" if head.endswith(b",") and len(head) > 1 else (b"{}" if head == b"{" else None)
        if body is None or end != b'"}' or len(claimed) != 64:
            return None
        if sha256(body).hexdigest().encode("ascii") != claimed:
            return None
        data = body
    elif not legacy:
        return None
    import json

    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(obj, dict) or CHECK_KEY in obj:
        return None
    return obj


def read_checked(path: Union[str, Path], *, legacy: bool = False) -> Optional[dict]:
    """:func:`loads_checked` of the file at ``path``; None when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    return loads_checked(data, legacy=legacy)


# -- a cache that cannot be written ------------------------------------------------------------

_warned: list[str] = []
_lock = _thread.allocate_lock()


def warn(message: str, stream: Any = None) -> bool:
    """Print ``analyze: warning: <message>`` on stderr if this process printed no cache
    warning yet; True when it was printed."""
    with _lock:
        if _warned:
            return False
        _warned.append(message)
    out = stream if stream is not None else sys.stderr
    try:
        out.write(f"analyze: warning: {message}\n")
        out.flush()
    except (OSError, ValueError):
        pass
    return True


def not_writable(where: Union[str, Path], exc: BaseException) -> str:
    """The warning for a write under ``where`` that failed with ``exc``."""
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"cannot write to the cache dir {where} ({reason}); continuing without caching"


def warned() -> list[str]:
    """The cache warning this process printed (empty or one message)."""
    return list(_warned)


def reset_warning() -> None:
    """Forget the warning (tests run many analyses in one process)."""
    with _lock:
        _warned.clear()
