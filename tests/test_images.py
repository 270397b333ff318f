from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.images import (
    ImageRef,
    InvalidReference,
    is_scratch,
    looks_dynamic,
    parse_ref,
)
from analyzer.model import AnalyzerError

SHA256 = "sha256:" + "a" * 64
SHA512 = "sha512:" + "0123456789abcdef" * 8


# --------------------------------------------------------------------------- #
# Domain detection
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "text, domain, path",
    [
        ("ubuntu", "docker.io", "library/ubuntu"),
        ("localhost:5000/x", "localhost:5000", "x"),
        ("localhost/x", "localhost", "x"),
        ("myhost:5000/x", "myhost:5000", "x"),
        ("my.host/x", "my.host", "x"),
        ("myhost/x", "docker.io", "myhost/x"),
        ("[::1]:5000/x", "[::1]:5000", "x"),
        ("[::1]/x", "[::1]", "x"),
        ("[fe80::1:2]:443/a/b", "[fe80::1:2]:443", "a/b"),
        ("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app"),
        ("quay.io/jupyter/base-notebook", "quay.io", "jupyter/base-notebook"),
        ("ghcr.io/a/b/c", "ghcr.io", "a/b/c"),
        ("MyRegistry/x", "MyRegistry", "x"),
        ("Registry.Example.COM/x", "Registry.Example.COM", "x"),
        ("localhost", "docker.io", "library/localhost"),
        ("localhost:5000", "docker.io", "library/localhost"),
        ("localhostx/x", "docker.io", "localhostx/x"),
        ("docker.io/ubuntu", "docker.io", "library/ubuntu"),
        ("index.docker.io/ubuntu", "docker.io", "library/ubuntu"),
        ("registry-1.docker.io/ubuntu", "docker.io", "library/ubuntu"),
        ("index.docker.io/jupyter/scipy-notebook", "docker.io", "jupyter/scipy-notebook"),
        ("docker.io:443/ubuntu", "docker.io:443", "ubuntu"),
    ],
)
def test_domain_detection(text, domain, path):
    ref = parse_ref(text)
    assert (ref.domain, ref.path) == (domain, path)
    assert ref.name == f"{domain}/{path}"
    assert ref.repository == path
    assert ref.original == text


@pytest.mark.parametrize(
    "text, path",
    [
        ("ubuntu", "library/ubuntu"),
        ("docker.io/ubuntu", "library/ubuntu"),
        ("docker.io/library/ubuntu", "library/ubuntu"),
        ("library/ubuntu", "library/ubuntu"),
        ("jupyter/scipy-notebook", "jupyter/scipy-notebook"),
        ("library/a/b", "library/a/b"),
        ("quay.io/ubuntu", "ubuntu"),
        ("localhost/ubuntu", "ubuntu"),
        ("localhost:5000/ubuntu", "ubuntu"),
        ("docker.io:443/ubuntu", "ubuntu"),
    ],
)
def test_library_prefix_only_on_docker_hub(text, path):
    assert parse_ref(text).path == path


@pytest.mark.parametrize(
    "text, host",
    [
        ("ubuntu", "registry-1.docker.io"),
        ("index.docker.io/x/y", "registry-1.docker.io"),
        ("quay.io/x", "quay.io"),
        ("localhost:5000/x", "localhost:5000"),
    ],
)
def test_api_host(text, host):
    assert parse_ref(text).api_host == host


# --------------------------------------------------------------------------- #
# Tags and digests
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "text, tag, digest, explicit, pinned",
    [
        ("ubuntu", "latest", None, False, False),
        ("ubuntu:latest", "latest", None, True, False),
        ("ubuntu:22.04", "22.04", None, True, False),
        ("ubuntu:Jammy_2024.01-rc1", "Jammy_2024.01-rc1", None, True, False),
        ("localhost:5000/x:v1", "v1", None, True, False),
        ("[::1]:5000/x:v1", "v1", None, True, False),
        (f"ubuntu@{SHA256}", None, SHA256, False, True),
        (f"ubuntu:22.04@{SHA256}", "22.04", SHA256, True, True),
        (f"quay.io/a/b:latest@{SHA512}", "latest", SHA512, True, True),
        (f"localhost:5000/x@{SHA256}", None, SHA256, False, True),
        ("x:" + "a" * 128, "a" * 128, None, True, False),
    ],
)
def test_tags_and_digests(text, tag, digest, explicit, pinned):
    ref = parse_ref(text)
    assert ref.tag == tag
    assert ref.digest == digest
    assert ref.explicit_tag is explicit
    assert ref.pinned is pinned


@pytest.mark.parametrize(
    "text, normalized, familiar",
    [
        ("ubuntu", "docker.io/library/ubuntu:latest", "ubuntu"),
        ("ubuntu:22.04", "docker.io/library/ubuntu:22.04", "ubuntu:22.04"),
        ("docker.io/library/ubuntu:22.04", "docker.io/library/ubuntu:22.04", "ubuntu:22.04"),
        (
            "jupyter/scipy-notebook",
            "docker.io/jupyter/scipy-notebook:latest",
            "jupyter/scipy-notebook",
        ),
        (
            "index.docker.io/jupyter/scipy-notebook",
            "docker.io/jupyter/scipy-notebook:latest",
            "jupyter/scipy-notebook",
        ),
        (
            "quay.io/jupyter/base-notebook:latest",
            "quay.io/jupyter/base-notebook:latest",
            "quay.io/jupyter/base-notebook:latest",
        ),
        (
            "quay.io/jupyter/base-notebook",
            "quay.io/jupyter/base-notebook:latest",
            "quay.io/jupyter/base-notebook",
        ),
        (f"ubuntu@{SHA256}", f"docker.io/library/ubuntu@{SHA256}", f"ubuntu@{SHA256}"),
        (
            f"ubuntu:22.04@{SHA256}",
            f"docker.io/library/ubuntu:22.04@{SHA256}",
            f"ubuntu:22.04@{SHA256}",
        ),
        ("library/a/b", "docker.io/library/a/b:latest", "library/a/b"),
        ("localhost/x", "localhost/x:latest", "localhost/x"),
        # Dropping docker.io here would turn the first component into a registry.
        ("docker.io/my.org/app", "docker.io/my.org/app:latest", "docker.io/my.org/app"),
        ("docker.io/localhost/app", "docker.io/localhost/app:latest", "docker.io/localhost/app"),
        ("docker.io/library/my.app", "docker.io/library/my.app:latest", "my.app"),
    ],
)
def test_normalized_and_familiar(text, normalized, familiar):
    ref = parse_ref(text)
    assert ref.normalized == normalized
    assert str(ref) == normalized
    assert ref.familiar == familiar
    assert parse_ref(familiar).normalized == normalized


def test_with_tag():
    ref = parse_ref("ubuntu")
    tagged = ref.with_tag("22.04")
    assert tagged.tag == "22.04"
    assert tagged.explicit_tag
    assert tagged.familiar == "ubuntu:22.04"
    assert tagged.normalized == "docker.io/library/ubuntu:22.04"
    assert tagged == parse_ref(tagged.original)
    assert ref.tag == "latest"  # unchanged, frozen

    latest = ref.with_tag("latest")
    assert latest.explicit_tag and latest.familiar == "ubuntu:latest"

    pinned = parse_ref(f"quay.io/a/b@{SHA256}").with_tag("v1")
    assert pinned.normalized == f"quay.io/a/b:v1@{SHA256}"
    assert pinned.familiar == f"quay.io/a/b:v1@{SHA256}"

    with pytest.raises(InvalidReference):
        ref.with_tag("-bad")
    with pytest.raises(InvalidReference):
        ref.with_tag("")


def test_frozen_and_hashable():
    ref = parse_ref("ubuntu")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.tag = "x"  # type: ignore[misc]
    assert {ref, parse_ref("ubuntu")} == {ref}
    assert parse_ref("ubuntu") != parse_ref("docker.io/library/ubuntu:latest")


# --------------------------------------------------------------------------- #
# Invalid references
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty"),
        ("Ubuntu", "lowercase"),
        ("foo/Bar", "lowercase"),
        ("docker.io/Library/ubuntu", "lowercase"),
        ("quay.io/Foo/bar", "lowercase"),
        ("ubuntu:", "tag"),
        ("quay.io/x:", "tag"),
        ("ubuntu:-x", "tag"),
        ("ubuntu:.x", "tag"),
        ("ubuntu:a/b", None),
        ("ubuntu:" + "a" * 129, "longer"),
        ("ubuntu@", "digest"),
        ("ubuntu@sha256:" + "a" * 63, "64"),
        ("ubuntu@sha256:" + "a" * 65, "64"),
        ("ubuntu@sha512:" + "a" * 64, "128"),
        ("ubuntu@sha256:" + "g" * 64, "sha256"),
        ("ubuntu@sha256:" + "A" * 64, "lowercase"),
        ("ubuntu@md5:" + "a" * 32, "unsupported"),
        ("ubuntu@" + "a" * 64, "algorithm"),
        ("ubuntu@sha256:", "sha256"),
        (f"ubuntu@{SHA256}@{SHA256}", None),
        ("ubuntu 22.04", "whitespace"),
        (" ubuntu", "whitespace"),
        ("ubuntu ", "whitespace"),
        ("ubuntu\t", "whitespace"),
        ("ubuntu\n", "whitespace"),
        ("foo//bar", "empty path component"),
        ("foo/", "empty path component"),
        ("/foo", "empty"),
        ("quay.io/", "empty"),
        (":tag", "empty"),
        ("@" + SHA256, "empty"),
        ("-foo", "path component"),
        ("foo-", "path component"),
        ("foo..bar", "path component"),
        ("foo___bar", "path component"),
        ("foo_-bar", "path component"),
        ("localhost:abc/x", "port"),
        ("localhost:/x", "port"),
        ("-bad.host/x", "registry host"),
        ("bad-.host/x", "registry host"),
        ("bad_host.io/x", "registry host"),
        ("::1/x", "registry host"),
        ("[::1/x", "registry host"),
        ("[zz::1]:5000/x", "registry host"),
        ("[::1]", None),
        ("0.0_0/x", "registry host"),
        ("[0]/x", "path component"),
        ("Foo_Bar/x", "registry host"),
        ("a" * 64, "image ID"),
        ("$IMAGE", "variable"),
        ("ubuntu:${TAG}", "variable"),
        ("scratch", "scratch"),
        ("ubuntü", None),
        ("x/" + "a" * 260, "longer than 255"),
    ],
)
def test_invalid_references(text, fragment):
    with pytest.raises(InvalidReference) as info:
        parse_ref(text)
    err = info.value
    assert isinstance(err, AnalyzerError)
    assert err.reference == text
    assert repr(text) in str(err)
    if fragment is not None:
        assert fragment in str(err)


def test_error_names_bad_part():
    with pytest.raises(InvalidReference, match="'Bar'"):
        parse_ref("foo/Bar:1")
    with pytest.raises(InvalidReference, match="'-x'"):
        parse_ref("ubuntu:-x")
    with pytest.raises(InvalidReference, match="'md5'"):
        parse_ref("ubuntu@md5:" + "a" * 32)


def test_accepted_path_separators():
    for text in ["a.b", "a_b", "a__b", "a-b", "a---b", "a.b-c__d_e", "0", "a/b/c/d/e"]:
        assert parse_ref(text).path.endswith(text)


# --------------------------------------------------------------------------- #
# scratch and dynamic references
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "text, expected",
    [
        ("scratch", True),
        ("Scratch", False),
        ("SCRATCH", False),
        ("scratch:latest", False),
        ("docker.io/library/scratch", False),
        (" scratch", False),
        ("ubuntu", False),
    ],
)
def test_is_scratch(text, expected):
    assert is_scratch(text) is expected


def test_scratch_is_not_parsed():
    with pytest.raises(InvalidReference, match="scratch"):
        parse_ref("scratch")
    with pytest.raises(InvalidReference, match="lowercase"):
        parse_ref("Scratch")
    assert parse_ref("scratch:1").path == "library/scratch"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$BASE", True),
        ("${BASE}", True),
        ("ubuntu:${TAG}", True),
        ("${REGISTRY}/app", True),
        ("ubuntu:22.04", False),
        ("", False),
    ],
)
def test_looks_dynamic(text, expected):
    assert looks_dynamic(text) is expected


# --------------------------------------------------------------------------- #
# Property tests
# --------------------------------------------------------------------------- #

LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
HEX = "0123456789abcdef"
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def path_components(draw, allow_dot=True):
    runs = draw(st.lists(st.text(LOWER_ALNUM, min_size=1, max_size=6), min_size=1, max_size=3))
    separators = ["_", "__", "-", "--", "---"] + (["."] if allow_dot else [])
    out = runs[0]
    for run in runs[1:]:
        out += draw(st.sampled_from(separators)) + run
    return out


@st.composite
def hostnames(draw):
    label_chars = LOWER_ALNUM + "ABCXYZ"
    labels = draw(
        st.lists(
            st.builds(
                lambda a, mid, b: a + mid + b if mid or b else a,
                st.text(label_chars, min_size=1, max_size=1),
                st.text(label_chars + "-", max_size=4),
                st.text(label_chars, min_size=1, max_size=1),
            ),
            min_size=1,
            max_size=3,
        )
    )
    return ".".join(labels)


ports = st.integers(min_value=0, max_value=65535).map(str)


@st.composite
def domains(draw):
    kind = draw(st.sampled_from(["dotted", "port", "localhost", "ipv6", "alias"]))
    if kind == "dotted":
        host = draw(hostnames())
        if "." not in host:
            host += ".io"
        return host + draw(st.one_of(st.just(""), ports.map(lambda p: ":" + p)))
    if kind == "port":
        return draw(hostnames()) + ":" + draw(ports)
    if kind == "localhost":
        return "localhost" + draw(st.one_of(st.just(""), ports.map(lambda p: ":" + p)))
    if kind == "ipv6":
        groups = draw(st.lists(st.text(HEX + "ABCDEF", min_size=1, max_size=4), min_size=1, max_size=4))
        host = "[" + ":".join(groups) + "::]" if draw(st.booleans()) else "[::" + ":".join(groups) + "]"
        return host + draw(st.one_of(st.just(""), ports.map(lambda p: ":" + p)))
    return draw(st.sampled_from(["docker.io", "index.docker.io", "registry-1.docker.io"]))


tags = st.builds(
    lambda head, rest: head + rest,
    st.text(LOWER_ALNUM + "ABCZ_", min_size=1, max_size=1),
    st.text(LOWER_ALNUM + "ABCZ_.-", max_size=20),
)


@st.composite
def digests(draw):
    algorithm, length = draw(st.sampled_from([("sha256", 64), ("sha384", 96), ("sha512", 128)]))
    return algorithm + ":" + draw(st.text(HEX, min_size=length, max_size=length))


@st.composite
def references(draw):
    """A valid reference and the parts it must parse to."""
    domain = draw(st.one_of(st.none(), domains()))
    components = draw(st.lists(path_components(), min_size=1, max_size=3))
    if domain is None and len(components) > 1:
        # A leading component with a '.' would be read as a registry host.
        components[0] = draw(path_components(allow_dot=False))
    tag = draw(st.one_of(st.none(), tags))
    digest = draw(st.one_of(st.none(), digests()))

    text = (domain + "/" if domain is not None else "") + "/".join(components)
    if tag is not None:
        text += ":" + tag
    if digest is not None:
        text += "@" + digest

    if domain is None:
        domain = "docker.io"
    if domain in ("index.docker.io", "registry-1.docker.io"):
        domain = "docker.io"
    if domain == "docker.io" and len(components) == 1:
        components = ["library"] + components
    expected = ImageRef(
        domain=domain,
        path="/".join(components),
        tag=tag if tag is not None or digest is not None else "latest",
        digest=digest,
        original=text,
    )
    return text, expected


@FAST
@given(references())
def test_valid_references_parse_to_expected_parts(case):
    text, expected = case
    assert parse_ref(text) == expected


@FAST
@given(references())
def test_normalized_round_trip(case):
    text, _ = case
    ref = parse_ref(text)
    again = parse_ref(ref.normalized)
    assert again == dataclasses.replace(ref, original=ref.normalized)
    assert again.normalized == ref.normalized
    assert parse_ref(str(ref)) == parse_ref(ref.normalized)


@FAST
@given(references())
def test_familiar_round_trip(case):
    text, _ = case
    ref = parse_ref(text)
    familiar = parse_ref(ref.familiar)
    assert familiar.normalized == ref.normalized
    assert familiar.name == ref.name
    assert familiar.familiar == ref.familiar
    assert familiar.explicit_tag == ref.explicit_tag
    assert familiar.pinned == ref.pinned


@FAST
@given(references(), tags)
def test_with_tag_round_trip(case, tag):
    ref = parse_ref(case[0])
    tagged = ref.with_tag(tag)
    assert tagged.tag == tag and tagged.digest == ref.digest and tagged.name == ref.name
    assert parse_ref(tagged.original) == tagged
    assert parse_ref(tagged.normalized).normalized == tagged.normalized


REFERENCE_ALPHABET = "abcAZ019:/@._-[] $\t"


def _parse_or_invalid(text):
    try:
        ref = parse_ref(text)
    except InvalidReference as err:
        assert err.reference == text
        return
    assert not looks_dynamic(text) and not is_scratch(text)
    again = parse_ref(ref.normalized)
    assert again == dataclasses.replace(ref, original=ref.normalized)
    assert parse_ref(ref.familiar).normalized == ref.normalized


@FAST
@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_invalid_reference(text):
    _parse_or_invalid(text)


@FAST
@given(st.text(REFERENCE_ALPHABET, max_size=40))
def test_reference_like_text_parses_or_raises_invalid_reference(text):
    _parse_or_invalid(text)


@FAST
@given(references(), st.integers(min_value=0, max_value=200), st.text(REFERENCE_ALPHABET + "A", min_size=1, max_size=3))
def test_mutated_references_parse_or_raise_invalid_reference(case, position, insert):
    text = case[0]
    position %= len(text) + 1
    _parse_or_invalid(text[:position] + insert + text[position:])
