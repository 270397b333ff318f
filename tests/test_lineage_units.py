"""Catalog matching, official-images manifests, and in-file stage chains."""

import pytest

from analyzer import parse
from analyzer.expand import resolve
from analyzer.images import parse_ref
from analyzer.lineage.catalog import CatalogEntry, CatalogError, build_catalog, load_file
from analyzer.lineage.official import find_build, is_official, parse_manifest
from analyzer.lineage.resolve import display_name, stage_chain


@pytest.mark.parametrize(
    "pattern,ref,matches",
    [
        ("registry.example.com/team/base", "registry.example.com/team/base:3", True),
        ("registry.example.com/team/base", "registry.example.com/team/other:3", False),
        ("registry.example.com/team/base:3", "registry.example.com/team/base:4", False),
        ("registry.example.com/team/*", "registry.example.com/team/app:1", True),
        ("jupyter/*", "jupyter/scipy-notebook", True),
        ("jupyter/*", "quay.io/jupyter/scipy-notebook", False),
        ("ubuntu", "docker.io/library/ubuntu:24.04", True),
        ("quay.io/jupyter/*", "quay.io/jupyter/base-notebook:2024-01-01", True),
    ],
)
def test_catalog_patterns(pattern, ref, matches):
    assert CatalogEntry(pattern, ("x",)).matches(parse_ref(ref)) is matches


def test_catalog_file_relative_paths_and_placeholders(tmp_path):
    (tmp_path / "cat.yaml").write_text(
        "images:\n"
        "  - image: registry.example.com/team/*\n"
        "    dockerfile: dockerfiles/{name}/{tag}/Dockerfile\n"
        "    build_args: {PYTHON_VERSION: 3.12}\n"
    )
    [entry] = load_file(str(tmp_path / "cat.yaml"))
    ref = parse_ref("registry.example.com/team/app:1.2")
    assert entry.locations(ref) == [str(tmp_path / "dockerfiles" / "app" / "1.2" / "Dockerfile")]
    assert dict(entry.build_args) == {"PYTHON_VERSION": "3.12"}
    assert entry.locations(parse_ref("registry.example.com/team/app"))[0].endswith("app/latest/Dockerfile")


@pytest.mark.parametrize(
    "text,message",
    [
        ("images: 3\n", "'images' list"),
        ("images:\n  - dockerfile: x\n", "needs 'image'"),
        ("images:\n  - image: a\n", "needs 'dockerfile'"),
        ("images:\n  - image: a\n    dockerfile: x\n    build_args: [1]\n", "must be a mapping"),
        ("images: [\n", "invalid YAML"),
    ],
)
def test_bad_catalog_files(tmp_path, text, message):
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(CatalogError, match=message):
        load_file(str(tmp_path / "c.yaml"))


def test_user_catalog_comes_before_builtin(tmp_path):
    (tmp_path / "c.yaml").write_text("images:\n  - image: quay.io/jupyter/*\n    dockerfile: mine/{name}\n")
    cat = build_catalog([str(tmp_path / "c.yaml")])
    entry = cat.find(parse_ref("quay.io/jupyter/scipy-notebook"))
    assert entry.origin.endswith("c.yaml")
    builtin = build_catalog([]).find(parse_ref("quay.io/jupyter/scipy-notebook"))
    assert builtin.locations(parse_ref("quay.io/jupyter/scipy-notebook"))[0].endswith("/main/images/scipy-notebook/Dockerfile")
    old = build_catalog([]).find(parse_ref("jupyter/base-notebook"))
    locs = old.locations(parse_ref("jupyter/base-notebook"))
    assert locs[1].endswith("/base-notebook/Dockerfile") and "/images/" not in locs[1]


MANIFEST = """\
# this file is generated
Maintainers: someone
GitRepo: https://github.com/docker-library/python.git
Builder: buildkit

Tags: 3.12.7-bookworm, 3.12-bookworm, 3.12, latest
Architectures: amd64, arm64v8
GitCommit: 1111111111111111111111111111111111111111
Directory: 3.12/bookworm

Tags: 3.12.7-slim-bookworm, 3.12-slim-bookworm
SharedTags: 3.12-slim
Architectures: amd64, arm64v8
GitCommit: 2222222222222222222222222222222222222222
arm64v8-GitCommit: 3333333333333333333333333333333333333333
Directory: 3.12/slim-bookworm
File: Dockerfile.slim
"""


def test_official_manifest():
    assert len(parse_manifest(MANIFEST)) == 3
    b = find_build(MANIFEST, "latest")
    assert b.dockerfile_url == (
        "https://raw.githubusercontent.com/docker-library/python/1111111111111111111111111111111111111111/3.12/bookworm/Dockerfile"
    )
    slim = find_build(MANIFEST, "3.12-slim", "arm64v8")
    assert slim.git_commit.startswith("3333") and slim.file == "Dockerfile.slim"
    assert find_build(MANIFEST, "3.12-slim").git_commit.startswith("2222")
    assert find_build(MANIFEST, "2.7") is None
    assert is_official(parse_ref("python:3.12")) and not is_official(parse_ref("jupyter/base-notebook"))


def test_stage_chain_through_arg_to_stage_name():
    df = parse(
        "ARG ROOT_IMAGE=default_root_image\n"
        "FROM ubuntu:24.04 AS default_root_image\n"
        "FROM $ROOT_IMAGE\n"
        "RUN true\n"
    )
    stages, base, unresolved = stage_chain(df, resolve(df), 1)
    assert [s.index for s in stages] == [0, 1]
    assert base == "ubuntu:24.04" and not unresolved


def test_display_names():
    assert display_name(parse_ref("ubuntu")) == "ubuntu:latest"
    assert display_name(parse_ref("quay.io/jupyter/base-notebook")) == "quay.io/jupyter/base-notebook:latest"
    d = "sha256:" + "a" * 64
    assert display_name(parse_ref(f"debian@{d}")) == f"debian@{d}"


def test_layers_option_reaches_the_resolver(monkeypatch):
    from analyzer.batch import fast_arguments
    from analyzer.lineage.session import make_resolver

    monkeypatch.delenv("ANALYZE_LAYERS", raising=False)
    assert fast_arguments(["--layers", "Dockerfile"])["layers"] is True
    assert make_resolver(offline=True, use_cache=False, list_layers=True).list_layers is True
    assert make_resolver(offline=True, use_cache=False).list_layers is False
    monkeypatch.setenv("ANALYZE_LAYERS", "1")
    assert make_resolver(offline=True, use_cache=False).list_layers is True
