"""Start-up cost: the code that :mod:`dataclasses` generates, compiled once.

Every ``@dataclass`` compiles the source of its ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` (and ``__setattr__``/``__delattr__`` when frozen) each time the module
defining it is imported; for the analyzer's fifty or so classes that compiling is a large
part of the time ``analyze`` takes on one small file. The generated source depends only on
the fields, so its compiled form is kept, like Python's own bytecode cache, in the
package's ``__pycache__`` directory (per interpreter version) and reused: the functions
built are the same, only the compiling is skipped.

The hook is the name ``exec`` inside the :mod:`dataclasses` module, which is how it turns
source into functions (3.8 to 3.13). Nothing is written when Python is told not to write
bytecode, when the directory is not writable, or when nothing new was compiled; an
unreadable or damaged file means compiling as usual.
"""

import builtins
import marshal
import os
import sys
import types

_REAL_EXEC = builtins.exec
_LIMIT = 4000  # entries kept (other libraries' dataclasses created meanwhile count too)
_PATH = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "__pycache__",
    "dataclass-code2.{}-{}.marshal".format(sys.implementation.cache_tag, ".".join(map(str, sys.version_info[:3]))),
)

_codes: dict = {}  # generated source -> marshalled code (unmarshalled when used)
_state = {"new": 0, "installed": False}


def _load() -> None:
    try:
        with open(_PATH, "rb") as fh:
            data = marshal.load(fh)
    except (OSError, EOFError, ValueError, TypeError):
        return
    if isinstance(data, dict):
        for source, blob in data.items():
            if isinstance(source, str) and isinstance(blob, bytes):
                _codes[source] = blob


_FROZEN_ASSIGN = None  # re.Pattern, compiled on first use


def _plain_frozen_init(source: str) -> str:
    """The ``__init__`` source of a frozen dataclass with its field assignments made
    straight into the instance's ``__dict__``, which is what ``object.__setattr__`` does
    for these classes (plain attributes, no slots), without a method call per field: the
    analyzer builds many small frozen records per file.

    Other source comes back unchanged."""
    global _FROZEN_ASSIGN
    if "__dataclass_builtins_object__.__setattr__(" not in source:
        return source
    if _FROZEN_ASSIGN is None:
        import re

        _FROZEN_ASSIGN = re.compile(r"^( +)__dataclass_builtins_object__\.__setattr__\(([A-Za-z_]\w*),('\w+'),(.*)\)$")
    out = []
    names = set()
    for line in source.split("\n"):
        m = _FROZEN_ASSIGN.match(line)
        if m is None:
            out.append(line)
            continue
        indent, owner, field, value = m.groups()
        if owner not in names:
            names.add(owner)
            out.append(f"{indent}__dataclass_dict__={owner}.__dict__")
        out.append(f"{indent}__dataclass_dict__[{field}]={value}")
    return "\n".join(out) if len(names) == 1 else source


def _code_for(source: str, globals=None):
    if isinstance(globals, dict) and str(globals.get("__name__", "")).startswith("analyzer."):
        source = _plain_frozen_init(source)  # the analyzer's classes: none has slots
    blob = _codes.get(source)  # keyed by the source compiled
    if blob is not None:
        try:
            code = marshal.loads(blob)
        except (EOFError, ValueError, TypeError):
            code = None
        if isinstance(code, types.CodeType):
            return code
    # what exec() itself does with a string; dataclasses has no __future__ imports
    code = compile(source, "<string>", "exec", dont_inherit=True)
    if len(_codes) < _LIMIT or source in _codes:
        _codes[source] = marshal.dumps(code)
        _state["new"] += 1
    return code


def _exec(source, globals=None, locals=None, *args, **kwargs):
    if type(source) is not str or args or kwargs:
        return _REAL_EXEC(source, globals, locals, *args, **kwargs)
    return _REAL_EXEC(_code_for(source, globals), globals, locals)


def _save() -> None:
    if not _state["new"] or sys.dont_write_bytecode:
        return
    tmp = f"{_PATH}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(_PATH), exist_ok=True)
        with open(tmp, "wb") as fh:
            marshal.dump(_codes, fh)
        os.replace(tmp, _PATH)
        _state["new"] = 0
    except (OSError, ValueError):
        try:
            os.unlink(tmp)
        except OSError:
            pass


class _DeferredModule(types.ModuleType):
    """Stands in ``sys.modules`` for a module until one of its attributes is asked for,
    then imports the real one and takes on its contents.

    :mod:`dataclasses` imports :mod:`inspect` (which imports ``ast``, ``dis``,
    ``tokenize``...: a tenth of ``analyze``'s time on a small file) only to describe a
    class that has no docstring; the analyzer's classes all have one."""

    def __getattr__(self, name: str):
        import importlib.util

        self.__class__ = types.ModuleType  # from now on, a plain module
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        try:
            spec = importlib.util.find_spec(self.__name__)
        finally:
            sys.modules[self.__name__] = self
        self.__spec__, self.__loader__ = spec, spec.loader
        self.__file__, self.__cached__ = spec.origin, spec.cached
        spec.loader.exec_module(self)  # the real module's code, run in this namespace
        return getattr(self, name)


def _defer(name: str) -> None:
    if name not in sys.modules:
        sys.modules[name] = _DeferredModule(name)


def install() -> None:
    """Route dataclasses' compiling through the cache (once per process)."""
    if _state["installed"] or os.environ.get("ANALYZE_NO_CODE_CACHE"):
        return
    import atexit

    if "dataclasses" not in sys.modules:
        _defer("inspect")
    import dataclasses

    if getattr(dataclasses, "exec", _REAL_EXEC) is not _REAL_EXEC:
        return  # someone else hooks it: leave it alone
    _state["installed"] = True
    _load()
    dataclasses.exec = _exec
    atexit.register(_save)


def prepare() -> int:
    """Import what ``analyze`` loads and write the cache now, whatever
    ``PYTHONDONTWRITEBYTECODE`` says (like ``compileall``); the number of entries."""
    import importlib
    import pkgutil

    install()
    import analyzer

    for info in pkgutil.walk_packages(analyzer.__path__, "analyzer."):
        if info.name.rsplit(".", 1)[-1].startswith("__"):
            continue
        try:
            importlib.import_module(info.name)
        except Exception:  # an optional part that cannot load here (a missing extra)
            continue
    from analyzer.rules import load_catalog

    load_catalog()  # imports every check family
    _state["new"] = max(_state["new"], 1)
    dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, False
    try:
        _save()
    finally:
        sys.dont_write_bytecode = dont_write
    return len(_codes)

