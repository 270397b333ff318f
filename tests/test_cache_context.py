"""The build context index: what COPY sources select, what the fingerprints hold, and the
hash cache that keeps a warm plan fast."""

from __future__ import annotations

import os
import time

from analyzer.cache.context import BuildContext, HashCache, clean
from analyzer.dockerignore import parse as parse_ignore


def make(tmp_path, files: dict, ignore: str = ""):
    root = tmp_path / "ctx"
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    root.mkdir(exist_ok=True)
    return root, (parse_ignore(ignore) if ignore else None)


def test_clean_keeps_sources_inside_the_context():
    assert clean("/a/./b/") == "a/b"
    assert clean("../../etc/passwd") == "etc/passwd"
    assert clean(".") == "." and clean("") == "."


def test_directory_selection_and_fingerprints(tmp_path):
    root, _ = make(tmp_path, {"src/a.py": "a", "src/sub/b.py": "bb", "srcx/c": "c", "top": "t"})
    os.chmod(root / "src" / "a.py", 0o640)
    ctx = BuildContext(root)
    sel = ctx.select("src")
    assert sorted(sel.files) == ["src", "src/a.py", "src/sub", "src/sub/b.py"]  # not srcx
    assert sel.files["src/a.py"].startswith("f0640:")
    assert sel.files["src/sub"].startswith("d")
    everything = ctx.select(".")
    assert "top" in everything.files and "srcx/c" in everything.files


def test_wildcards_follow_go_filepath_match(tmp_path):
    root, _ = make(tmp_path, {"a.txt": "", "b.txt": "", "sub/c.txt": "", "d.md": "", "[x].txt": ""})
    ctx = BuildContext(root)
    assert sorted(ctx.select("*.txt").files) == ["[x].txt", "a.txt", "b.txt"]  # * never crosses /
    assert sorted(ctx.select("*/*.txt").files) == ["sub/c.txt"]
    assert sorted(ctx.select("[ab].txt").files) == ["a.txt", "b.txt"]
    assert sorted(ctx.select("[[]x].txt").files) == ["[x].txt"]
    assert ctx.select("*.none").missing


def test_ignored_paths_are_not_in_the_context(tmp_path):
    root, matcher = make(
        tmp_path,
        {"app.py": "", "logs/a.log": "", "logs/keep.log": "", "node_modules/x/y.js": ""},
        ignore="logs\n!logs/keep.log\nnode_modules\n",
    )
    ctx = BuildContext(root, matcher)
    files = set(ctx.select(".").files)
    assert "app.py" in files and "logs/keep.log" in files
    assert "logs/a.log" not in files and not any(f.startswith("node_modules") for f in files)
    assert "logs" in files  # the parent of a re-included file comes along
    assert ctx.select("logs/a.log").missing


def test_symlink_resolution_stays_in_the_context(tmp_path):
    root, _ = make(tmp_path, {"etc/conf": "inside"})
    os.symlink("/etc/conf", root / "abs")  # absolute targets are relative to the context root
    os.symlink("../../../../etc/conf", root / "up")
    os.symlink("missing", root / "dangling")
    ctx = BuildContext(root)
    assert list(ctx.select("abs").files) == ["etc/conf"]
    assert list(ctx.select("up").files) == ["etc/conf"]
    assert ctx.select("dangling").missing


def test_uid_gid_and_mtime_are_not_in_the_fingerprint(tmp_path):
    root, _ = make(tmp_path, {"f": "same"})
    before = BuildContext(root).select("f").digest
    os.utime(root / "f", (1, 1))
    if os.geteuid() == 0:
        os.chown(root / "f", 1234, 1234)
    assert BuildContext(root).select("f").digest == before


def test_size_type_and_content_are(tmp_path):
    root, _ = make(tmp_path, {"f": "one"})
    before = BuildContext(root).select(".").digest
    (root / "f").write_text("two")
    assert BuildContext(root).select(".").digest != before


def test_hash_cache_makes_a_second_pass_read_nothing(tmp_path):
    root, _ = make(tmp_path, {f"d/f{i}": str(i) for i in range(50)})
    path = tmp_path / "hashes.json"
    ctx = BuildContext(root, None, HashCache(path))
    first = ctx.select(".").digest
    ctx.save_cache()
    assert ctx.hash_cache.misses == 50 and path.exists()
    again = BuildContext(root, None, HashCache(path))
    assert again.select(".").digest == first
    assert again.hash_cache.misses == 0 and again.hash_cache.hits == 50


def test_hash_cache_notices_a_rewrite_that_restores_size_and_mtime(tmp_path):
    root, _ = make(tmp_path, {"f": "aaaa"})
    path = tmp_path / "hashes.json"
    ctx = BuildContext(root, None, HashCache(path))
    first = ctx.select("f").digest
    ctx.save_cache()
    st = os.stat(root / "f")
    time.sleep(0.01)
    (root / "f").write_text("bbbb")  # same size
    os.utime(root / "f", ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime: ctime still moves
    assert BuildContext(root, None, HashCache(path)).select("f").digest != first


def test_unreadable_hash_cache_is_ignored(tmp_path):
    root, _ = make(tmp_path, {"f": "x"})
    path = tmp_path / "hashes.json"
    path.write_text("garbage")
    ctx = BuildContext(root, None, HashCache(path))
    assert ctx.select("f").files
    ctx.save_cache()
    assert path.read_text().startswith("{")
