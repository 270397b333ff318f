import subprocess
import sys
import time

import pytest

from analyzer.knowledge import images, installers, packages, roots

# -- roots ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref, name",
    [
        ("debian:bookworm", "debian:bookworm"),
        ("debian:bookworm-slim", "debian:bookworm"),
        ("docker.io/library/debian:12", "debian:bookworm"),
        ("debian:12.8-slim", "debian:bookworm"),
        ("debian:bookworm-20241202-slim", "debian:bookworm"),
        ("debian:trixie-slim", "debian:trixie"),
        ("debian:13", "debian:trixie"),
        ("debian:latest", "debian:trixie"),
        ("debian:stable-slim", "debian:trixie"),
        ("debian:stable-20261117", "debian:trixie"),
        ("debian:oldstable", "debian:bookworm"),
        ("ubuntu:22.04", "ubuntu:22.04"),
        ("ubuntu:jammy-20240911.1", "ubuntu:22.04"),
        ("ubuntu:24.04", "ubuntu:24.04"),
        ("docker.io/library/ubuntu:noble", "ubuntu:24.04"),
        ("alpine:3.19", "alpine:3.19"),
        ("alpine:3.20.3", "alpine:3.20"),
        ("alpine:3.21", "alpine:3.21"),
        ("busybox:1.36", "busybox"),
        ("busybox:1.37-musl", "busybox"),
        ("scratch", "scratch"),
    ],
)
def test_root_for_matches(ref, name):
    assert roots.root_for(ref).name == name


@pytest.mark.parametrize(
    "ref",
    ["debian:buster", "debian:bookworm-backports", "ubuntu:latest", "ubuntu:20.04", "alpine:3.22", "alpine:latest",
     "python:3.12", "quay.io/library/debian:12", "registry.example.com/debian:12", "debian@sha256:" + "a" * 64,
     "not a ref"],
)
def test_root_for_unknown(ref):
    assert roots.root_for(ref) is None


@pytest.mark.parametrize(
    "ref, present, missing",
    [
        # debian minbase: perl-base, no curl/wget/ca-certificates/gnupg/procps
        ("debian:bookworm", ["/usr/bin/apt-get", "/bin/sh", "/usr/bin/perl", "/bin/bash", "/usr/sbin/useradd",
                             "/usr/bin/gpgv", "/usr/sbin/adduser"], ["curl", "wget", "gpg", "ps", "python3", "update-ca-certificates", "git", "sudo"]),
        # trixie dropped adduser and gpgv from the minimal set
        ("debian:trixie-slim", ["/usr/bin/apt-get", "/usr/bin/perl", "/usr/bin/sqv"], ["adduser", "gpgv", "curl", "wget"]),
        ("ubuntu:22.04", ["/usr/bin/apt-get", "/bin/bash", "/usr/bin/ps", "/usr/bin/perl"], ["curl", "wget", "git", "sudo", "python3"]),
        ("ubuntu:24.04", ["/usr/bin/apt-get", "/usr/bin/dpkg"], ["curl", "wget", "git", "python3"]),
        ("alpine:3.20", ["/sbin/apk", "/bin/sh", "/usr/bin/wget", "/bin/busybox", "/usr/bin/env"], ["bash", "curl", "git", "python3", "apt-get"]),
        ("scratch", [], ["sh", "ls"]),
    ],
)
def test_root_inventories(ref, present, missing):
    root = roots.root_for(ref)
    assert root.complete
    for path in present:
        assert path in root.paths, path
        assert root.has(path) is True
    for name in missing:
        assert root.has(name) is False, name


def test_root_defaults_and_provenance():
    for ref in ("debian:bookworm", "ubuntu:24.04", "alpine:3.21", "busybox:1.36", "scratch"):
        root = roots.root_for(ref)
        assert root.user == "root" and root.workdir == "/"
        assert root.env_path == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        assert root.source and root.as_of
    assert roots.root_for("debian:12").family == "debian" and roots.root_for("debian:12").package_manager == "apt"
    assert roots.root_for("ubuntu:22.04").family == "ubuntu"
    assert roots.root_for("alpine:3.20").package_manager == "apk"
    assert roots.root_for("scratch").paths == frozenset() and roots.root_for("scratch").family is None


def test_merged_usr_roots_answer_both_paths():
    root = roots.root_for("debian:bookworm")
    assert root.merged_usr
    assert "/usr/bin/bash" in root.paths and "/bin/bash" in root.paths
    assert root.which("bash") == "/usr/bin/bash"
    alpine = roots.root_for("alpine:3.19")
    assert not alpine.merged_usr
    assert "/bin/sh" in alpine.paths and "/usr/bin/sh" not in alpine.paths


def test_busybox_is_incomplete_but_knows_what_is_absent():
    root = roots.root_for("busybox:latest")
    assert not root.complete
    assert "/bin/sh" in root.paths and "/bin/wget" in root.paths
    assert root.has("bash") is False and root.has("apt-get") is False
    assert root.has("some-applet-not-listed") is None


def test_noble_marks_unconfirmed_commands():
    root = roots.root_for("ubuntu:24.04")
    assert "/usr/bin/ps" in root.uncertain and "/usr/bin/ps" in root.paths
    assert "/usr/bin/apt-get" not in root.uncertain


def test_scan_rootfs_reads_a_real_tree(tmp_path):
    import os

    usr_bin = tmp_path / "usr" / "bin"
    usr_bin.mkdir(parents=True)
    (tmp_path / "bin").symlink_to("usr/bin")
    tool = usr_bin / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    (usr_bin / "notes.txt").write_text("not a program")
    (usr_bin / "link").symlink_to("/usr/bin/tool")  # absolute: resolved inside the root
    (usr_bin / "dangling").symlink_to("/nowhere")
    os.makedirs(tmp_path / "usr" / "sbin")
    found = roots.scan_rootfs(str(tmp_path))
    assert found["/usr/bin"] == ["link", "tool"]
    assert found["/bin"] == ["link", "tool"]
    assert found["/usr/sbin"] == []
    assert "/usr/local/bin" not in found


@pytest.mark.parametrize(
    "release,version,has,lacks",
    [
        ("bookworm", "Debian GNU/Linux 12 (bookworm)", ["adduser", "gpgv", "perl"], ["sqv"]),
        ("trixie", "Debian GNU/Linux 13 (trixie)", ["sqv", "perl"], ["adduser", "gpgv"]),
    ],
)
def test_shipped_root_inventories_record_their_source(release, version, has, lacks):
    import json
    from pathlib import Path

    path = Path(roots.__file__).parent / "data" / f"root-debian-{release}.tsv"
    lines = path.read_text().splitlines()
    head = json.loads(lines[0][1:])
    assert head["format"] == "root-inventory/1" and head["image"] == f"debian:{release}" and head["release"] == release
    assert head["variant"] == "minbase" and head["debootstrap"] and head["mirror"] == "http://deb.debian.org/debian"
    assert head["command"] == f"debootstrap --variant=minbase --merged-usr {release} DIR http://deb.debian.org/debian"
    assert head["release_date"] and head["generated"] and head["os_release"].startswith(version)
    assert head["links"] == {"/bin": "/usr/bin", "/sbin": "/usr/sbin"} and head["merged_usr"] is True
    assert head["executables"] == len(lines) - 1 > 300
    assert lines[1:] == sorted(lines[1:])
    installed = {p.split("=", 1)[0] for p in head["packages"]}
    assert {"apt", "bash", "coreutils", "dpkg", "mawk"} <= installed
    rows = {ln.split("\t")[0]: ln.split("\t")[1:] for ln in lines[1:]}
    assert rows["/usr/bin/bash"] == ["bash"]
    assert rows["/usr/bin/awk"] == ["mawk", "alternative -> /usr/bin/mawk"]
    assert rows["/usr/sbin/policy-rc.d"][0] == "-"
    root = roots.root_for(f"debian:{release}-slim")
    assert root.release == (release, "") and root.as_of == head["generated"]
    assert "debootstrap" in root.source and head["debootstrap"] in root.source
    for name in has:
        assert root.has(name) is True, name
    for name in lacks:
        assert root.has(name) is False, name
    assert "/sbin/policy-rc.d" in root.paths and "/usr/sbin/policy-rc.d" in root.paths
    assert len(root.paths) == 2 * (len(lines) - 1)  # merged-/usr: every name under /bin or /sbin too


def test_ubuntu_roots_choose_a_debian_release_and_say_so():
    jammy, noble = roots.root_for("ubuntu:jammy"), roots.root_for("ubuntu:24.04")
    assert jammy.release == ("bookworm", "ubuntu:22.04: using Debian bookworm's index")
    assert noble.release == ("trixie", "ubuntu:24.04: using Debian trixie's index")
    assert "/usr/sbin/policy-rc.d" not in noble.paths  # a debuerreotype addition, not in the ubuntu images
    assert roots.root_for("alpine:3.20").release is None


def test_build_root_inventory_scans_a_root(tmp_path):
    """tools/build-root-inventory --from-root on a small merged-/usr tree with dpkg data."""
    import json
    import os
    from pathlib import Path

    root = tmp_path / "root"
    for d in ("usr/bin", "usr/sbin", "etc/alternatives", "var/lib/dpkg/info", "usr/local/bin"):
        (root / d).mkdir(parents=True)
    (root / "bin").symlink_to("usr/bin")
    (root / "sbin").symlink_to("usr/sbin")

    def program(rel, mode=0o755):
        p = root / rel
        p.write_text("#!/bin/sh\n")
        p.chmod(mode)

    program("usr/bin/bash")
    program("usr/bin/mawk")
    program("usr/sbin/useradd")
    program("usr/bin/readme", 0o644)  # not executable
    (root / "usr/bin/sh").symlink_to("dash-missing")  # dangling
    (root / "etc/alternatives/awk").symlink_to("/usr/bin/mawk")
    (root / "usr/bin/awk").symlink_to("/etc/alternatives/awk")
    (root / "usr/bin/rbash").symlink_to("bash")
    (root / "var/lib/dpkg/info/bash.list").write_text("/.\n/bin\n/bin/bash\n/bin/rbash\n")
    (root / "var/lib/dpkg/info/mawk:amd64.list").write_text("/usr/bin/mawk\n")
    (root / "var/lib/dpkg/info/passwd.list").write_text("/usr/sbin/useradd\n")
    (root / "var/lib/dpkg/status").write_text(
        "Package: bash\nStatus: install ok installed\nVersion: 5.2\n\n"
        "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n"
        "Package: mawk\nStatus: install ok installed\nVersion: 1.3.4\n"
    )
    out = tmp_path / "out"
    tool = Path(__file__).resolve().parent.parent / "tools" / "build-root-inventory"
    proc = subprocess.run([sys.executable, str(tool), "--release", "bookworm", "--from-root", str(root), "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = (out / "root-debian-bookworm.tsv").read_text().splitlines()
    head = json.loads(lines[0][1:])
    assert head["links"] == {"/bin": "/usr/bin", "/sbin": "/usr/sbin"} and head["merged_usr"] is True
    assert head["packages"] == ["bash=5.2", "mawk=1.3.4"]
    assert head["format"] == "root-inventory/1" and head["variant"] == "minbase"
    assert lines[1:] == [
        "/usr/bin/awk\tmawk\talternative -> /usr/bin/mawk",
        "/usr/bin/bash\tbash",  # listed by dpkg as /bin/bash: one file through the /bin link
        "/usr/bin/mawk\tmawk",
        "/usr/bin/rbash\tbash",
        "/usr/sbin/policy-rc.d\t-\tadded by debuerreotype-minimizing-config in the docker images (exit 101)",
        "/usr/sbin/useradd\tpasswd",
    ]
    assert os.listdir(out) == ["root-debian-bookworm.tsv"]
    bad = subprocess.run([sys.executable, str(tool), "--from-root", str(root), "--out", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "exactly one --release" in bad.stderr


# -- packages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "manager, package, expected",
    [
        ("apt-get", "wget", {"/usr/bin/wget"}),
        ("apt", "curl", {"/usr/bin/curl"}),
        ("apt", "locales", {"/usr/sbin/locale-gen"}),
        ("apt", "build-essential", {"/usr/bin/gcc", "/usr/bin/g++", "/usr/bin/make", "/usr/bin/cc"}),
        ("apt", "python3-pip", {"/usr/bin/pip3", "/usr/bin/python3"}),
        ("apt", "gnupg", {"/usr/bin/gpg"}),
        ("apt", "ca-certificates", {"/usr/sbin/update-ca-certificates"}),
        ("apt", "openssh-client", {"/usr/bin/ssh", "/usr/bin/scp"}),
        ("apt", "netcat-openbsd", {"/usr/bin/nc"}),
        ("apt", "procps", {"/usr/bin/ps", "/usr/bin/top", "/usr/bin/free"}),
        ("apt", "default-jdk", {"/usr/bin/java", "/usr/bin/javac"}),
        ("apt", "maven", {"/usr/bin/mvn", "/usr/bin/java"}),
        ("apt", "golang-go", {"/usr/bin/go"}),
        ("apt", "ruby", {"/usr/bin/ruby", "/usr/bin/gem"}),
        ("apt", "postgresql-client", {"/usr/bin/psql"}),
        ("apt", "mariadb-client", {"/usr/bin/mysql"}),
        ("apt", "ffmpeg", {"/usr/bin/ffmpeg"}),
        ("apt", "tini", {"/usr/bin/tini"}),
        ("apt", "gosu", {"/usr/sbin/gosu"}),
        ("apk", "bash", {"/bin/bash"}),
        ("apk", "py3-pip", {"/usr/bin/pip3", "/usr/bin/python3"}),
        ("apk", "build-base", {"/usr/bin/gcc", "/usr/bin/make"}),
        ("dnf", "procps-ng", {"/usr/bin/ps"}),
        ("yum", "which", {"/usr/bin/which"}),
        ("microdnf", "shadow-utils", {"/usr/sbin/useradd"}),
        ("zypper", "python3-pip", {"/usr/bin/pip3"}),
    ],
)
def test_commands_of_package(manager, package, expected):
    found = set(packages.commands_of_package(manager, package))
    assert expected <= found, expected - found


def test_libraries_have_no_commands_and_unknown_packages_are_unknown():
    assert packages.commands_of_package("apt", "libssl-dev") == ()
    assert packages.commands_of_package("apt", "fonts-liberation") == ()
    assert packages.commands_of_package("apt", "libpq-dev") == ("/usr/bin/pg_config",)
    assert packages.commands_of_package("apt", "some-package-nobody-has") is None
    # not in the curated table: Debian's Contents index answers
    assert "/usr/bin/lowriter" in packages.commands_of_package("apt", "libreoffice-writer")
    assert packages.commands_of_package("pacman", "curl") is None


def test_own_commands_exclude_what_dependencies_bring():
    assert "/usr/bin/perl" not in packages.own_commands_of_package("apt", "git")
    assert "/usr/bin/cpan" in packages.commands_of_package("apt", "git")
    assert packages.own_commands_of_package("apt", "build-essential") == ()


@pytest.mark.parametrize(
    "command, family, first",
    [
        ("wget", "debian", "wget"),
        ("/usr/bin/wget", "ubuntu", "wget"),
        ("nc", "debian", "netcat-openbsd"),
        ("pip3", "debian", "python3-pip"),
        ("ps", "ubuntu", "procps"),
        ("java", "debian", "default-jre-headless"),
        ("gcc", "debian", "gcc"),
        ("bash", "alpine", "bash"),
        ("pip", "alpine", "py3-pip"),
        ("ps", "rhel", "procps-ng"),
    ],
)
def test_packages_providing(command, family, first):
    assert packages.packages_providing(command, family)[0] == first


def test_packages_providing_nothing_known():
    assert packages.packages_providing("no-such-command-anywhere", "debian") == []


@pytest.mark.parametrize(
    "manager, spec, name",
    [
        ("apt", "curl=7.88.1-10+deb12u5", "curl"),
        ("apt", "python3:amd64", "python3"),
        ("apt", "git/bookworm-backports", "git"),
        ("apt", "$PKGS", None),
        ("apt", "./local.deb", None),
        ("apk", "curl~8.5", "curl"),
        ("apk", "bash@edge", "bash"),
        ("apk", "openssl>3", "openssl"),
        ("dnf", "python3.11", "python3.11"),
        ("dnf", "curl-7.61.1", "curl-7.61.1"),
    ],
)
def test_normalize_package(manager, spec, name):
    assert packages.normalize_package(manager, spec) == name


def test_a_complete_index_can_replace_the_table():
    class Contents:
        def own_commands(self, package):
            return ("/usr/bin/hello",) if package == "hello" else None

        def depends(self, package):
            return ()

        def providers(self, command):
            return ["hello"] if command == "hello" else []

    packages.set_index("apt", Contents())
    try:
        assert packages.commands_of_package("apt-get", "hello") == ("/usr/bin/hello",)
        assert packages.commands_of_package("apt", "curl") is None
        assert packages.packages_providing("hello", "ubuntu") == ["hello"]
    finally:
        packages.set_index("apt", None)
    assert packages.commands_of_package("apt", "curl") == ("/usr/bin/curl",)


# -- installers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "installer, package, expected",
    [
        ("pip", "jupyter", {"jupyter", "jupyter-notebook", "jupyter-lab"}),
        ("pip", "jupyterlab", {"jupyter-lab", "jupyter"}),
        ("pip", "Kaggle", {"kaggle"}),
        ("pip", "awscli", {"aws"}),
        ("pip", "httpie", {"http"}),
        ("pip", "django", {"django-admin"}),
        ("pip", "ansible", {"ansible", "ansible-playbook"}),
        ("pip", "python_dotenv", {"dotenv"}),
        ("conda", "python", {"python", "python3", "pip"}),
        ("conda", "mamba", {"mamba", "conda"}),
        ("conda", "nodejs", {"node", "npm"}),
        ("conda", "jupyter_core", {"jupyter"}),
        ("conda", "kaggle", {"kaggle", "tqdm"}),  # a Python project: same entry points as on PyPI
        ("npm", "typescript", {"tsc"}),
        ("npm", "@angular/cli", {"ng"}),
        ("npm", "yarn", {"yarn"}),
        ("gem", "bundler", {"bundle"}),
        ("gem", "rails", {"rails", "rake"}),
        ("cargo", "ripgrep", {"rg"}),
        ("cargo", "fd-find", {"fd"}),
    ],
)
def test_installer_commands(installer, package, expected):
    assert expected <= set(installers.commands_of(installer, package))


def test_unknown_language_packages_are_unknown():
    assert installers.commands_of("pip", "my-private-package") is None
    assert installers.commands_of("npm", "left-pad-nobody") is None
    assert installers.commands_of("pip", "requests") == ("normalizer",)


@pytest.mark.parametrize(
    "installer, spec, name",
    [
        ("pip", "black[jupyter]>=23.1", "black"),
        ("pip", "Django==5.0", "django"),
        ("pip", "git+https://github.com/x/y", None),
        ("pip", "./dist/pkg.whl", None),
        ("conda", "conda-forge::blas=*=openblas", "blas"),
        ("conda", "python=3.11", "python"),
        ("conda", "notebook>=7.2.2", "notebook"),
        ("npm", "@angular/cli@17", "@angular/cli"),
        ("npm", "yarn@1.22.19", "yarn"),
        ("npm", "file:../pkg", None),
    ],
)
def test_normalize_spec(installer, spec, name):
    assert installers.normalize_spec(installer, spec) == name


@pytest.mark.parametrize(
    "path, binary",
    [
        ("golang.org/x/tools/gopls@latest", "gopls"),
        ("github.com/go-delve/delve/cmd/dlv@v1.22.0", "dlv"),
        ("github.com/golang-migrate/migrate/v4/cmd/migrate", "migrate"),
        ("github.com/cosmtrek/air/v2@latest", "air"),
        ("./...", None),
        ("$PKG", None),
    ],
)
def test_go_binary(path, binary):
    assert installers.go_binary(path) == binary


@pytest.mark.parametrize(
    "text, kind, has",
    [
        ("https://github.com/conda-forge/miniforge/releases/latest/download/Miniforge3-Linux-x86_64.sh", "conda", "mamba"),
        ("https://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-x86_64.sh", "conda", "conda"),
        ("Anaconda3-2024.02-1-Linux-x86_64.sh", "conda", "python"),
        ("https://sh.rustup.rs", "rustup", "cargo"),
        ("https://astral.sh/uv/install.sh", "uv", "uvx"),
        ("https://raw.githubusercontent.com/nvm-sh/nvm/v0.39.7/install.sh", "nvm", None),
        ("https://deb.nodesource.com/setup_20.x", "nodesource", None),
        ("https://bootstrap.pypa.io/get-pip.py", "get-pip", "pip"),
    ],
)
def test_installer_script(text, kind, has):
    inst = installers.installer_script(text)
    assert inst.kind == kind
    if has:
        assert has in inst.commands


def test_miniconda_has_no_mamba():
    assert "mamba" not in installers.installer_script("Miniconda3-latest-Linux-x86_64.sh").commands
    assert installers.installer_script("https://example.com/setup.sh") is None


# -- images -------------------------------------------------------------------------------


def test_jupyter_chain_today():
    chain = []
    ref = "quay.io/jupyter/scipy-notebook"
    while ref is not None and len(chain) < 10:
        known = images.known_image(ref)
        if known is None:
            chain.append(ref)
            break
        chain.append(known.name)
        ref = known.parent
    assert chain == [
        "quay.io/jupyter/scipy-notebook:latest",
        "quay.io/jupyter/minimal-notebook:latest",
        "quay.io/jupyter/base-notebook:latest",
        "quay.io/jupyter/docker-stacks-foundation:latest",
        "ubuntu:24.04",
    ]
    assert roots.root_for("ubuntu:24.04") is not None


def test_jupyter_foundation_contents():
    known = images.known_image("quay.io/jupyter/docker-stacks-foundation")
    conda = known.provided("/opt/conda/bin/conda")
    assert conda is not None and "micromamba" in conda.via and conda.kind == "RUN"
    for name in ("wget", "sudo", "tini", "locale-gen"):
        item = known.provided(name)
        assert item is not None and item.via.startswith("apt-get install"), name
    fix = known.provided("/usr/local/bin/fix-permissions")
    assert fix.kind == "COPY"
    assert known.provided("curl") is None
    assert known.path_additions == ("/opt/conda/bin",)
    assert known.user == "1000" and known.workdir == "/home/jovyan"
    assert known.shell == ("/bin/bash", "-o", "pipefail", "-c")
    assert dict(known.env)["HOME"] == "/home/jovyan"
    assert not known.complete and known.unknown_dirs == ("/opt/conda/bin",)
    assert "images/docker-stacks-foundation/Dockerfile" in known.source and known.as_of


def test_jupyter_children_add_what_their_dockerfiles_install():
    minimal = images.known_image("quay.io/jupyter/minimal-notebook:latest")
    assert minimal.provided("curl").via == "apt-get install curl"
    assert minimal.provided("git") is not None
    assert minimal.provided("/usr/bin/nano").via.startswith("update-alternatives")
    scipy = images.known_image("quay.io/jupyter/scipy-notebook")
    assert scipy.provided("gcc") is not None and scipy.provided("ffmpeg") is not None
    base = images.known_image("quay.io/jupyter/base-notebook")
    assert base.provided("/opt/conda/bin/jupyter-lab") is not None
    # npm came in as a conda dependency of jupyterlab today: not claimed
    assert base.provided("npm") is None
    assert base.provided("curl") is None


def test_jupyter_docker_hub_2023():
    foundation = images.known_image("jupyter/docker-stacks-foundation")
    assert foundation.parent == "ubuntu:22.04"
    assert foundation.as_of.startswith("2023")
    base = images.known_image("docker.io/jupyter/base-notebook:latest")
    assert base.parent == "jupyter/docker-stacks-foundation"
    assert base.provided("/opt/conda/bin/node") is not None  # 'nodejs >= 18.0' in 2023
    assert images.known_image("jupyter/scipy-notebook").parent == "jupyter/minimal-notebook"


def test_tagged_jupyter_parent_keeps_tag():
    known = images.known_image("quay.io/jupyter/scipy-notebook:2024-10-07")
    assert known.parent == "quay.io/jupyter/minimal-notebook:2024-10-07"


@pytest.mark.parametrize(
    "ref, parent, present, absent",
    [
        ("python:3.12-slim", "debian:trixie-slim", ["/usr/local/bin/python3", "/usr/local/bin/pip", "/usr/local/bin/python3.12"], ["wget", "gcc"]),
        ("python:3.11-slim-bookworm", "debian:bookworm-slim", ["/usr/local/bin/pip3"], ["wget", "gcc", "make"]),
        ("python:3.12", "buildpack-deps:trixie", ["/usr/local/bin/python"], []),
        ("node:22-slim", "debian:bookworm-slim", ["/usr/local/bin/node", "/usr/local/bin/npm", "/usr/local/bin/npx", "/usr/local/bin/yarn"], ["curl"]),
        ("golang:1.27", "buildpack-deps:trixie-scm", ["/usr/local/go/bin/go"], []),
        ("php:8.3-cli", "debian:trixie-slim", ["/usr/local/bin/php", "/usr/local/bin/docker-php-ext-install", "/usr/bin/curl"], []),
        ("buildpack-deps:bookworm-curl", "debian:bookworm", ["/usr/bin/curl", "/usr/bin/wget"], []),
    ],
)
def test_official_images(ref, parent, present, absent):
    known = images.known_image(ref)
    assert known.parent == parent
    for path in present:
        assert known.provided(path) is not None, path
    for name in absent:
        assert known.provided(name) is None, name
    assert "built-in knowledge" in known.source and known.as_of


def test_golang_puts_go_on_path():
    known = images.known_image("golang:1.27-bookworm")
    assert "/usr/local/go/bin" in known.path_additions and "/go/bin" in known.path_additions


def test_unknown_parent_makes_the_image_incomplete():
    known = images.known_image("python:3.7-slim")  # not in the table, no suite in the tag
    assert known.parent is None and not known.complete and known.unknown_dirs == ()


def test_unknown_images():
    assert images.known_image("example.com/team/image:1") is None
    assert images.known_image("redis:7") is None
    assert images.known_image("quay.io/jupyter/not-a-stack") is None


def test_official_parent_table():
    assert images.official_parent("python:3.12-slim") == (
        "debian:trixie-slim", "docker-library/python", "3362634339580d3232e65a66dd5a36c47ae7ff14", "3.12/slim-trixie/Dockerfile")
    assert images.official_parent("docker.io/library/debian:bookworm")[0] == "(root)"
    assert images.official_parent("alpine:3.20")[0] == "scratch"
    # a shared tag: the Linux build first
    assert images.official_parent("eclipse-temurin:21")[0] == "ubuntu:26.04"
    assert len(images.official_parents("eclipse-temurin:21")) == 3
    assert images.official_parent("python:0.0-none") is None
    assert images.official_parent("quay.io/jupyter/base-notebook") is None


def test_table_copy_matches_shared_data():
    from pathlib import Path

    shared = Path("/work/shared/data/official-image-parents.tsv")
    if not shared.exists():
        pytest.skip("no shared data here")
    assert images.OFFICIAL_PARENTS_TSV.read_bytes() == shared.read_bytes()


def test_data_modules_import_fast_and_load_the_table_lazily():
    code = (
        "import time, sys; t = time.perf_counter();"
        "import analyzer.knowledge.images, analyzer.knowledge.roots, analyzer.knowledge.packages, analyzer.knowledge.installers;"
        "import analyzer.knowledge.images as im; assert im._PARENTS is None;"
        "t = time.perf_counter(); im.official_parent('python:3.12'); load = time.perf_counter() - t;"
        "t = time.perf_counter(); [im.official_parent('node:22') for _ in range(1000)]; again = time.perf_counter() - t;"
        "print(load, again)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    load, again = float(out[0]), float(out[1])
    assert load < 1.0 and again < 0.5
    start = time.perf_counter()
    roots.root_for("debian:bookworm")
    assert time.perf_counter() - start < 0.5
