"""Start-up shortcuts: the same answers as the slow way."""

from __future__ import annotations

import dataclasses
import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

from analyzer import _startup

platformdirs = pytest.importorskip("platformdirs")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the shortcut is Linux's rule")
@pytest.mark.parametrize("xdg", [None, "/tmp/xdg-cache", "", "relative/dir", " /tmp/space", "/tmp/trailing "])
def test_cache_and_config_dirs_match_platformdirs(monkeypatch, xdg):
    from analyzer.cachedir import cache_root
    from analyzer.config import _user_config_file

    monkeypatch.delenv("ANALYZE_CACHE_DIR", raising=False)
    for var in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        if xdg is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, xdg)
    assert str(cache_root()) == platformdirs.user_cache_dir("analyze")
    assert _user_config_file() == Path(platformdirs.user_config_dir("analyze")) / "config.yaml"


_PROBE_SOURCE = '''
import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Point:
    """A point."""

    x: int
    y: int = 0
    tags: tuple = ()
    label: Optional[str] = dataclasses.field(default=None, compare=False)
    extra: list = dataclasses.field(default_factory=list, compare=False)


@dataclasses.dataclass(frozen=True)
class Odd:
    """A field named self, an InitVar and a __post_init__ that sets a field."""

    self: int
    seed: dataclasses.InitVar[int] = 1
    twice: int = dataclasses.field(init=False, default=0)

    def __post_init__(self, seed):
        object.__setattr__(self, "twice", self.self * 2 + seed)


@dataclasses.dataclass
class Box:
    """A box."""

    items: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Child(Point):
    """Inherits the fields of Point."""

    z: int = 9
'''


_PROBE_CODE = compile(_PROBE_SOURCE, "<probe>", "exec")


def _classes(ns: dict):
    exec(_PROBE_CODE, ns)  # the classes, made by the exec dataclasses has at the time
    return ns["Point"], ns["Box"]


def _behaviour(Point, Box):
    p = Point(1, tags=("a",), label="l")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 2
    b1, b2 = Box(), Box()
    b1.items.append(1)
    return (
        repr(p),
        p == Point(1, 0, ("a",), "other"),
        hash(p) == hash(Point(1, 0, ("a",))),
        repr(dataclasses.replace(p, y=5)),
        dataclasses.astuple(p),
        b2.items,
        repr(b1),
        Box.__eq__(b1, Box([1])),
    )


def test_cached_code_builds_the_same_classes(monkeypatch, tmp_path):
    import builtins

    monkeypatch.setattr(_startup, "_PATH", str(tmp_path / "__pycache__" / "dc.marshal"))
    monkeypatch.setattr(_startup, "_codes", {})
    monkeypatch.setitem(_startup._state, "new", 0)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)

    monkeypatch.setattr(dataclasses, "exec", builtins.exec, raising=False)
    plain = _behaviour(*_classes({}))

    monkeypatch.setattr(dataclasses, "exec", _startup._exec, raising=False)
    first = _behaviour(*_classes({}))  # compiles and remembers
    assert _startup._state["new"] > 0
    _startup._save()
    assert (tmp_path / "__pycache__" / "dc.marshal").is_file()

    compiled = []
    real_compile = builtins.compile
    monkeypatch.setattr(_startup, "_codes", {})
    _startup._load()
    assert _startup._codes, "the saved code is loaded back"
    monkeypatch.setattr(builtins, "compile", lambda *a, **k: compiled.append(a) or real_compile(*a, **k))
    again = _behaviour(*_classes({}))  # from the cache: nothing compiled
    monkeypatch.setattr(builtins, "compile", real_compile)
    assert compiled == []
    assert plain == first == again


@pytest.mark.parametrize("content", [b"", b"\x00garbage", marshal.dumps([1, 2]), marshal.dumps({"src": 3, 4: "x"})])
def test_damaged_cache_file_is_ignored(monkeypatch, tmp_path, content):
    path = tmp_path / "dc.marshal"
    path.write_bytes(content)
    monkeypatch.setattr(_startup, "_PATH", str(path))
    monkeypatch.setattr(_startup, "_codes", {})
    _startup._load()
    assert _startup._codes == {}


def test_nothing_is_written_when_bytecode_is_not(monkeypatch, tmp_path):
    path = tmp_path / "dc.marshal"
    monkeypatch.setattr(_startup, "_PATH", str(path))
    monkeypatch.setitem(_startup._state, "new", 3)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    _startup._save()
    assert not path.exists()


def test_unwritable_place_is_harmless(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setattr(_startup, "_PATH", str(blocker / "sub" / "dc.marshal"))
    monkeypatch.setitem(_startup._state, "new", 3)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    _startup._save()  # no exception
    assert list(tmp_path.iterdir()) == [blocker]


def test_precompile_command_writes_bytecode_and_code_cache():
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-m", "analyzer.precompile"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "dataclass methods cached" in out.stdout
    assert Path(_startup._PATH).is_file()
    with open(_startup._PATH, "rb") as fh:
        data = marshal.load(fh)
    assert len(data) > 100 and all(isinstance(k, str) and isinstance(v, bytes) for k, v in data.items())


def test_damaged_entry_is_compiled_again(monkeypatch):
    source = "def __create_fn__():\n def f(self):\n  return 42\n return f"
    monkeypatch.setattr(_startup, "_codes", {source: b"\x00not marshal"})
    ns: dict = {}
    _startup._exec(source, {}, ns)
    assert ns["__create_fn__"]()(None) == 42
    assert marshal.loads(_startup._codes[source]).co_name == "<module>"


def _child(code: str) -> str:
    """What a new interpreter running ``code`` prints (it must succeed)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_bash_grammar_loads_without_the_package_init():
    code = (
        "import sys\n"
        "from analyzer.rules import lint_text\n"
        "found = lint_text('FROM debian:12\\nRUN apt-get update && apt-get install -y curl\\n')\n"
        "assert any(f.rule == 'AN3008' for f in found), found\n"
        "print('importlib.resources' in sys.modules, 'tree_sitter_bash' in sys.modules)\n"
    )
    assert _child(code).split() == ["False", "False"]


def test_bash_grammar_is_the_packages_grammar():
    tree_sitter = pytest.importorskip("tree_sitter")
    import tree_sitter_bash

    from analyzer.shell import _bash_language

    assert tree_sitter.Language(_bash_language()) == tree_sitter.Language(tree_sitter_bash.language())
    assert tree_sitter.Language(_bash_language()).name == "bash"


def test_lazy_pattern_compiles_on_first_use_and_behaves_like_re():
    import re

    from analyzer.lazyre import lazy

    p = lazy(r"(?P<k>gpgcheck)\s*=\s*(\d)", re.I)
    assert p._compiled is None and p.pattern.startswith("(?P<k>")
    text = "x GPGCHECK = 0; gpgcheck=1"
    real = re.compile(r"(?P<k>gpgcheck)\s*=\s*(\d)", re.I)
    assert p.search(text).span() == real.search(text).span()
    assert p._compiled is not None
    assert [m.group(2) for m in p.finditer(text)] == ["0", "1"]
    assert p.findall(text) == real.findall(text)
    assert p.sub("-", text) == real.sub("-", text)
    assert p.match(text) is None and p.fullmatch("gpgcheck=3")
    assert p.split(text) == real.split(text)
    assert p.flags == real.flags
    assert p.search.__self__ is p._compiled  # after the first use, calls go straight to re


@pytest.mark.parametrize("first", ["search", "match", "fullmatch", "finditer", "findall", "sub", "split", "flags"])
def test_lazy_pattern_answers_the_same_whichever_method_comes_first(first):
    import re

    from analyzer.lazyre import lazy

    p, real = lazy(r"a(b*)"), re.compile(r"a(b*)")
    text = "xab abb a"
    calls = {"search": (text,), "match": ("ab",), "fullmatch": ("abb",), "finditer": (text,), "findall": (text,), "sub": ("-", text), "split": (text,)}
    if first == "flags":
        assert p.flags == real.flags
    else:
        getattr(p, first)(*calls[first])
    for name, args in calls.items():
        mine, theirs = getattr(p, name)(*args), getattr(real, name)(*args)
        if name == "finditer":
            mine, theirs = [m.span() for m in mine], [m.span() for m in theirs]
        elif name in ("search", "match", "fullmatch"):
            mine, theirs = mine and mine.span(), theirs and theirs.span()
        assert mine == theirs, name


def _loaded_after_small_run(tmp_path: Path, extra: str = "") -> dict:
    df = tmp_path / "Dockerfile"
    df.write_text("FROM debian:12\nRUN apt-get update && apt-get install -y curl\nCMD [\"curl\"]\n")
    code = (
        "import sys, json\n"
        f"sys.argv = ['analyze', '--offline', {str(df)!r}]\n"
        "from analyzer.batch import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "inspect = sys.modules.get('inspect')\n"
        "sys.stderr.write(json.dumps({'inspect_real': hasattr(inspect, '__dict__') and 'signature' in vars(inspect),"
        " 'ast': 'ast' in sys.modules, 'hashlib': '_hashlib' in sys.modules, 'requests': 'requests' in sys.modules,"
        " 'typer': 'typer' in sys.modules, 'go': 'dockerfile' in sys.modules, 'code': code}) + '\\n')\n"
        + extra
    )
    env = {**os.environ, "ANALYZE_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    import json

    assert "AN3008" in out.stdout, out.stderr
    return json.loads(out.stderr.strip().splitlines()[-1])


def test_one_small_file_loads_none_of_the_heavy_modules(tmp_path):
    loaded = _loaded_after_small_run(tmp_path)
    # nor the Go parser: the file is plain (analyzer.parse_plain)
    assert loaded == {"inspect_real": False, "ast": False, "hashlib": False, "requests": False, "typer": False, "go": False, "code": 1}


def test_deferred_inspect_is_the_real_module_when_used(tmp_path):
    code = (
        "import analyzer, sys, inspect\n"
        "first = sys.modules['inspect']\n"
        "assert 'signature' not in vars(first)\n"
        "sig = str(inspect.signature(analyzer.parse))\n"
        "import inspect as again\n"
        "assert again is first and sys.modules['inspect'] is first, 'one module object'\n"
        "assert type(first).__name__ == 'module'\n"
        "assert inspect.getsourcefile(analyzer.parse).endswith('__init__.py')\n"
        "from inspect import Parameter, getmembers\n"
        "assert inspect.__file__.endswith('inspect.py') and inspect.__spec__.name == 'inspect'\n"
        "print(sig)\n"
    )
    assert _child(code).strip() == "(text: 'str', path: 'str' = 'Dockerfile')"


def test_every_dataclass_has_a_docstring():
    """dataclasses describes an undocumented class with inspect.signature, which loads
    inspect (ast, dis, tokenize): a tenth of a small run."""
    import ast

    missing = []
    for path in sorted((Path(_startup.__file__).parent).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            names = {getattr(d, "id", None) or getattr(d, "attr", None) for d in node.decorator_list}
            names |= {getattr(d.func, "id", None) or getattr(d.func, "attr", None) for d in node.decorator_list if isinstance(d, ast.Call)}
            if "dataclass" in names and ast.get_docstring(node) is None:
                missing.append(f"{path.name}:{node.lineno} {node.name}")
    assert missing == []




def _probe(monkeypatch, name: str, hook):
    import types

    monkeypatch.setattr(dataclasses, "exec", hook, raising=False)
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    exec(_PROBE_CODE, module.__dict__)
    Point, Odd, Child = module.Point, module.Odd, module.Child
    p, o, c = Point(1, tags=("a",), label="l"), Odd(4, 3), Child(1, 2, z=3)
    for obj in (p, o, c):
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.x = 5
    return (
        repr(p), repr(o), repr(c), p == Point(1, 0, ("a",), "other"), hash(p) == hash(Point(1, 0, ("a",))),
        repr(dataclasses.replace(p, y=5)), dataclasses.astuple(c), list(vars(c)), o.twice, p.extra is not Point(1).extra,
        Point.__init__.__code__.co_names,
    )


def test_frozen_inits_of_the_analyzer_assign_through_the_instance_dict(monkeypatch, tmp_path):
    import builtins

    monkeypatch.setattr(_startup, "_PATH", str(tmp_path / "dc.marshal"))
    monkeypatch.setattr(_startup, "_codes", {})
    plain = _probe(monkeypatch, "analyzer._probe_plain", builtins.exec)
    fast = _probe(monkeypatch, "analyzer._probe_fast", _startup._exec)
    other = _probe(monkeypatch, "elsewhere._probe", _startup._exec)
    assert plain[:-1] == fast[:-1] == other[:-1]  # same classes, same behaviour
    assert "__setattr__" in plain[-1] and "__setattr__" not in fast[-1]  # the shortcut was taken
    assert other[-1] == plain[-1]  # other packages' classes are left as dataclasses makes them


def test_plain_frozen_init_leaves_other_source_alone():
    source = "def __create_fn__():\n def __repr__(self):\n  return 'x'\n return __repr__"
    assert _startup._plain_frozen_init(source) == source
    mixed = " def __init__(a, b):\n  __dataclass_builtins_object__.__setattr__(a,'x',1)\n  __dataclass_builtins_object__.__setattr__(b,'y',2)"
    assert _startup._plain_frozen_init(mixed) == mixed  # two different owners: untouched


def test_no_dataclass_of_the_analyzer_has_slots():
    """The frozen-init shortcut writes into ``__dict__``: a class with slots has none."""
    import importlib
    import pkgutil

    import analyzer

    seen = 0
    for info in pkgutil.walk_packages(analyzer.__path__, "analyzer."):
        if info.name.rsplit(".", 1)[-1].startswith("__"):
            continue  # __main__ runs the command
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == info.name:
                seen += 1
                assert value.__dictoffset__ != 0, f"{value} has slots: its instances have no __dict__"
    assert seen > 50
