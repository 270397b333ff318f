"""Built-in knowledge of well-known images, for the offline default.

* jupyter/docker-stacks: ``quay.io/jupyter/<name>`` today (scipy-notebook ->
  minimal-notebook -> base-notebook -> docker-stacks-foundation -> ubuntu:24.04) and the
  Docker Hub ``jupyter/<name>`` images as last published in 2023 (same chain, the
  foundation on ubuntu:22.04), from ``images/<name>/Dockerfile`` (``<name>/Dockerfile``
  before 2023-08) in github.com/jupyter/docker-stacks.
* Docker official images: the parent of each tag comes from the official images'
  table (``data/official-image-parents.tsv``: image:tag -> parent, source repository,
  commit and Dockerfile path); what common ones add on top of it (python, node, golang,
  ruby, rust, php, buildpack-deps, eclipse-temurin...) from their Dockerfiles.

:func:`known_image` answers a :class:`KnownImage` (parent, what it provides and by which
instruction, PATH additions, ENV, final USER/WORKDIR/SHELL, whether the list is
complete and where unlisted executables may be) or None. :func:`official_parent` reads
the table, loaded on first use and indexed once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

__all__ = [
    "Provided",
    "KnownImage",
    "known_image",
    "official_parent",
    "official_parents",
    "OFFICIAL_PARENTS_TSV",
]

OFFICIAL_PARENTS_TSV = Path(__file__).parent / "data" / "official-image-parents.tsv"
_SYSTEM_DIRS = ("/usr/bin", "/usr/sbin", "/bin", "/sbin")


@dataclass(frozen=True)
class Provided:
    """One executable an image adds, and the instruction that added it."""

    path: str
    via: str  # e.g. "apt-get install wget"
    instruction: str  # the instruction, e.g. "RUN apt-get install --yes ... wget"
    kind: str = "RUN"  # RUN | COPY | ADD
    package: Optional[str] = None
    line: Optional[int] = None

    @property
    def command(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class KnownImage:
    """An image of the built-in knowledge: its parent and what it provides or removes."""

    name: str  # e.g. quay.io/jupyter/base-notebook:latest
    parent: Optional[str]
    provides: tuple = ()  # Provided, in build order
    removes: tuple = ()  # paths removed
    path_additions: tuple = ()  # dirs put in front of PATH by ENV
    env: tuple = ()  # (name, value) pairs set by ENV (PATH excluded)
    user: Optional[str] = None  # final USER, None when not changed
    workdir: Optional[str] = None
    shell: Optional[tuple] = None  # SHELL, None when not changed
    family: Optional[str] = None
    complete: bool = False  # True: nothing else was added on PATH
    unknown_dirs: tuple = ()  # where unlisted executables may have been added
    source: str = ""
    as_of: str = ""

    def provided(self, command: str) -> Optional[Provided]:
        for item in self.provides:
            if item.path == command or item.command == command:
                return item
        return None


# --- building entries --------------------------------------------------------------------


def _aliases(path: str, merged: bool) -> list:
    out = [path]
    if merged and path.startswith(("/usr/bin/", "/usr/sbin/")):
        out.append(path[4:])
    return out


def _apt(packages: str, instruction: str, *, merged: bool = True, manager: str = "apt-get") -> list:
    from .packages import commands_of_package

    out = []
    for pkg in packages.split():
        for path in commands_of_package("apt", pkg) or ():
            for p in _aliases(path, merged):
                out.append(Provided(p, f"{manager} install {pkg}", instruction, "RUN", pkg))
    return out


def _apk(packages: str, instruction: str) -> list:
    from .packages import commands_of_package

    out = []
    for pkg in packages.split():
        for path in commands_of_package("apk", pkg) or ():
            out.append(Provided(path, f"apk add {pkg}", instruction, "RUN", pkg))
    return out


def _conda(prefix: str, packages: str, instruction: str, tool: str) -> list:
    from .installers import commands_of, own_commands_of

    out = []
    pkgs = packages.split()
    # a package's own commands first, then what its dependencies bring
    for lookup in (own_commands_of, commands_of):
        for pkg in pkgs:
            for name in lookup("conda", pkg) or ():
                path = f"{prefix}/bin/{name}"
                if not any(p.path == path for p in out):
                    out.append(Provided(path, f"{tool} install {pkg}", instruction, "RUN", pkg))
    return out


def _files(paths: str, via: str, instruction: str, kind: str = "RUN") -> list:
    return [Provided(p, via, instruction, kind) for p in paths.split()]


def _dedupe(items: list) -> tuple:
    seen = set()
    out = []
    for item in items:
        if item.path not in seen:
            seen.add(item.path)
            out.append(item)
    return tuple(out)


# --- jupyter/docker-stacks ----------------------------------------------------------------

_JUPYTER_SOURCE = "built-in knowledge of jupyter/docker-stacks, images/{name}/Dockerfile"
_JUPYTER_HUB_SOURCE = "built-in knowledge of jupyter/docker-stacks, {name}/Dockerfile (Docker Hub jupyter/{name}, last published 2023-10)"
_JUPYTER_SHELL = ("/bin/bash", "-o", "pipefail", "-c")
_JUPYTER_PARENTS = {
    "docker-stacks-foundation": None,
    "base-notebook": "docker-stacks-foundation",
    "minimal-notebook": "base-notebook",
    "scipy-notebook": "minimal-notebook",
    "r-notebook": "minimal-notebook",
    "julia-notebook": "minimal-notebook",
    "tensorflow-notebook": "scipy-notebook",
    "pytorch-notebook": "scipy-notebook",
    "datascience-notebook": "scipy-notebook",
    "pyspark-notebook": "scipy-notebook",
    "all-spark-notebook": "pyspark-notebook",
}
_JUPYTER_UNKNOWN_FROM_MINIMAL = ("/opt/conda/bin",) + _SYSTEM_DIRS


def _jupyter(name: str, era: str) -> Optional[KnownImage]:
    """``era`` is "quay" (today) or "hub" (Docker Hub jupyter/<name>, 2023)."""
    if name not in _JUPYTER_PARENTS:
        return None
    hub = era == "hub"
    prefix = "jupyter/" if hub else "quay.io/jupyter/"
    parent_name = _JUPYTER_PARENTS[name]
    source = (_JUPYTER_HUB_SOURCE if hub else _JUPYTER_SOURCE).format(name=name)
    as_of = "2023-10" if hub else "2026-08"
    common = dict(user="1000", workdir="/home/jovyan", shell=_JUPYTER_SHELL, source=source, as_of=as_of)
    conda = "/opt/conda"
    items: list = []
    env: tuple = ()
    path_additions: tuple = ()
    unknown: tuple = _JUPYTER_UNKNOWN_FROM_MINIMAL
    if name == "docker-stacks-foundation":
        parent = "ubuntu:22.04" if hub else "ubuntu:24.04"
        apt = "bzip2 ca-certificates locales sudo tini wget" if hub else "ca-certificates locales netbase sudo tini wget"
        items += _apt(apt, f"RUN apt-get install --yes --no-install-recommends {apt}")
        items += _files("/usr/local/bin/fix-permissions", "COPY fix-permissions", "COPY fix-permissions /usr/local/bin/fix-permissions", "COPY")
        if hub:
            mm = ("RUN wget .../micromamba/linux-64/latest; tar -xvjf ... bin/micromamba; ./micromamba install "
                  "--root-prefix=/opt/conda --prefix=/opt/conda python=3.11 mamba jupyter_core; rm micromamba")
            items += _conda(conda, "python mamba jupyter_core", mm, "micromamba")
            items += _files("/usr/local/bin/start.sh", "COPY start.sh", "COPY start.sh /usr/local/bin/", "COPY")
        else:
            mm = ("RUN --mount=type=bind,from=micromamba,source=/bin/micromamba,target=/usr/local/bin/micromamba "
                  "micromamba install --root-prefix=/opt/conda --prefix=/opt/conda jupyter_core conda mamba python")
            items += _conda(conda, "jupyter_core conda mamba python", mm, "micromamba")
            items += _files(
                "/usr/local/bin/_docker_stacks_log.sh /usr/local/bin/run-hooks.sh /usr/local/bin/start.sh",
                "COPY", "COPY _docker_stacks_log.sh run-hooks.sh start.sh /usr/local/bin/", "COPY",
            )
        lang = "en_US.UTF-8" if hub else "C.UTF-8"
        env = (
            ("DEBIAN_FRONTEND", "noninteractive"), ("CONDA_DIR", conda), ("SHELL", "/bin/bash"),
            ("NB_USER", "jovyan"), ("NB_UID", "1000"), ("NB_GID", "100"), ("LC_ALL", lang),
            ("LANG", lang), ("LANGUAGE", lang), ("HOME", "/home/jovyan"),
        )
        path_additions = (f"{conda}/bin",)
        unknown = (f"{conda}/bin",)
        return KnownImage(f"{prefix}{name}", parent, _dedupe(items), env=env, path_additions=path_additions,
                          unknown_dirs=unknown, **common)
    parent = prefix + parent_name
    if name == "base-notebook":
        apt = "fonts-liberation pandoc run-one"
        items += _apt(apt, f"RUN apt-get install --yes --no-install-recommends {apt}")
        if hub:
            pkgs = "nodejs notebook jupyterhub jupyterlab"
            items += _conda(conda, pkgs, "RUN mamba install --yes 'nodejs >= 18.0' 'notebook' 'jupyterhub' 'jupyterlab'", "mamba")
            items += _files("/usr/local/bin/start-notebook.sh /usr/local/bin/start-singleuser.sh", "COPY",
                            "COPY start-notebook.sh start-singleuser.sh /usr/local/bin/", "COPY")
        else:
            pkgs = "jupyterhub-singleuser jupyterlab nbclassic notebook"
            items += _conda(conda, pkgs, "RUN mamba install --yes 'jupyterhub-singleuser' 'jupyterlab' 'nbclassic' 'notebook>=7.2.2'", "mamba")
            items += _files(
                "/usr/local/bin/start-notebook.py /usr/local/bin/start-notebook.sh "
                "/usr/local/bin/start-singleuser.py /usr/local/bin/start-singleuser.sh",
                "COPY", "COPY start-notebook.py start-notebook.sh start-singleuser.py start-singleuser.sh /usr/local/bin/", "COPY",
            )
        items += _files("/etc/jupyter/docker_healthcheck.py", "COPY", "COPY jupyter_server_config.py docker_healthcheck.py /etc/jupyter/", "COPY")
        env = (("JUPYTER_PORT", "8888"),)
        unknown = (f"{conda}/bin",)
    elif name == "minimal-notebook":
        apt = ("curl git nano-tiny tzdata unzip vim-tiny openssh-client less texlive-xetex "
               "texlive-fonts-recommended texlive-plain-generic xclip")
        items += _apt(apt, f"RUN apt-get install --yes --no-install-recommends {apt}")
        items += _files("/usr/bin/nano", "update-alternatives --install /usr/bin/nano nano /bin/nano-tiny 10",
                        "RUN update-alternatives --install /usr/bin/nano nano /bin/nano-tiny 10")
    elif name == "scipy-notebook":
        apt = "build-essential cm-super dvipng ffmpeg"
        items += _apt(apt, f"RUN apt-get install --yes --no-install-recommends {apt}")
        items += _conda(conda, "cython dask numba sympy bokeh", "RUN mamba install --yes 'altair' 'beautifulsoup4' 'bokeh' ... 'xlrd'", "mamba")
        env = (("XDG_CACHE_HOME", "/home/jovyan/.cache/"),)
    elif name == "r-notebook":
        items += _conda(conda, "r-base", "RUN mamba install --yes 'r-base' ...", "mamba")
    elif name == "pyspark-notebook":
        items += _apt("default-jre-headless", "RUN apt-get install --yes --no-install-recommends openjdk-17-jre-headless ca-certificates-java")
        items += _files("/usr/local/spark/bin/spark-submit /usr/local/spark/bin/pyspark /usr/local/spark/bin/spark-shell",
                        "setup_spark.py (Spark unpacked into /usr/local/spark)", "RUN /opt/setup-scripts/setup_spark.py ...")
        env = (("SPARK_HOME", "/usr/local/spark"),)
        unknown = _JUPYTER_UNKNOWN_FROM_MINIMAL + ("/usr/local/spark/bin",)
    return KnownImage(f"{prefix}{name}", parent, _dedupe(items), env=env, path_additions=path_additions,
                      unknown_dirs=unknown, **common)


# --- Docker official images ---------------------------------------------------------------

_OFFICIAL_AS_OF = "2026-08"


def _official_source(repo: str) -> str:
    return f"built-in knowledge of the Docker official image {repo} (its Dockerfile in docker-library or upstream)"


_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.\d+)?")
_SUITES = ("bookworm", "trixie", "bullseye", "forky", "jammy", "noble")


def _suite_of(tag: str) -> Optional[str]:
    for suite in _SUITES:
        if suite in tag:
            return suite
    return None


def _alpine_of(tag: str) -> Optional[str]:
    m = re.search(r"alpine(\d+\.\d+)?", tag)
    if not m:
        return None
    return m.group(1) or ""


def _infer_parent(repo: str, tag: str) -> Optional[str]:
    """A parent from the tag's own words when the table does not list the tag."""
    alpine = _alpine_of(tag)
    if alpine is not None:
        return f"alpine:{alpine}" if alpine else None
    suite = _suite_of(tag)
    if suite is None:
        return None
    if "slim" in tag:
        return f"debian:{suite}-slim"
    if repo in ("python", "node", "ruby", "rust"):
        return f"buildpack-deps:{suite}"
    if repo == "golang":
        return f"buildpack-deps:{suite}-scm"
    return None


def _python(tag: str, parent: Optional[str]) -> KnownImage:
    m = _VERSION.match(tag)
    bindir = "/usr/local/bin"
    names = ["python3", "python", "pip", "pip3", "pydoc", "pydoc3", "idle", "idle3", "python3-config", "python-config"]
    minor = None
    if m and m.group(2) is not None:
        major_minor = f"{m.group(1)}.{m.group(2)}"
        minor = int(m.group(2))
        names += [f"python{major_minor}", f"python{major_minor}-config", f"pydoc{major_minor}", f"idle{major_minor}", f"pip{major_minor}"]
        if m.group(1) == "3" and minor <= 12:
            names += ["2to3", f"2to3-{major_minor}"]
        if m.group(1) == "3" and minor <= 11:
            names += ["wheel"]
    instruction = "RUN ... ./configure ... && make install (CPython built from source into /usr/local)"
    items = _files(" ".join(f"{bindir}/{n}" for n in names), "CPython make install / ensurepip", instruction)
    alpine = _alpine_of(tag) is not None
    slim = "slim" in tag
    if alpine:
        items += _apk("ca-certificates tzdata", "RUN apk add --no-cache ca-certificates tzdata")
    elif slim:
        # wget, gcc, make and the -dev packages are installed and purged again in the same
        # RUN (apt-get purge --auto-remove): children get none of them
        items += _apt("ca-certificates netbase tzdata", "RUN apt-get install -y --no-install-recommends ca-certificates netbase tzdata")
    return KnownImage(
        f"python:{tag}", parent, _dedupe(items), path_additions=(bindir,),
        env=(("LANG", "C.UTF-8"),), complete=True, source=_official_source("python"), as_of=_OFFICIAL_AS_OF,
    )


def _node(tag: str, parent: Optional[str]) -> KnownImage:
    m = _VERSION.match(tag)
    major = int(m.group(1)) if m else None
    names = ["node", "npm", "npx", "yarn", "yarnpkg"]
    if major is None or major <= 24:
        names.append("corepack")
    items = _files(" ".join(f"/usr/local/bin/{n}" for n in names), "Node.js release tarball + yarn tarball",
                   "RUN ... tar -xJf node-v$NODE_VERSION-linux-$ARCH.tar.xz -C /usr/local --strip-components=1 ...")
    return KnownImage(f"node:{tag}", parent, _dedupe(items), complete=True,
                      source=_official_source("node"), as_of=_OFFICIAL_AS_OF)


def _golang(tag: str, parent: Optional[str]) -> KnownImage:
    items = _files("/usr/local/go/bin/go /usr/local/go/bin/gofmt", "Go release tarball",
                   "RUN ... tar -C /usr/local -xzf go.tgz")
    alpine = _alpine_of(tag) is not None
    if not alpine:
        apt = "g++ gcc libc6-dev make pkg-config"
        items += _apt(apt, f"RUN apt-get install -y --no-install-recommends {apt}")
    return KnownImage(
        f"golang:{tag}", parent, _dedupe(items), path_additions=("/go/bin", "/usr/local/go/bin"),
        env=(("GOLANG_VERSION", tag.split("-")[0]), ("GOTOOLCHAIN", "local"), ("GOPATH", "/go")),
        complete=True, workdir="/go", source=_official_source("golang"), as_of=_OFFICIAL_AS_OF,
    )


def _ruby(tag: str, parent: Optional[str]) -> KnownImage:
    names = "ruby gem bundle bundler erb irb rake rdoc ri"
    items = _files(" ".join(f"/usr/local/bin/{n}" for n in names.split()), "Ruby built from source",
                   "RUN ... ./configure ... && make install")
    if "slim" in tag:
        items += _apt("bzip2 ca-certificates procps", "RUN apt-get install -y --no-install-recommends bzip2 ca-certificates libffi-dev libgmp-dev libssl-dev libyaml-dev procps zlib1g-dev")
    return KnownImage(
        f"ruby:{tag}", parent, _dedupe(items), path_additions=("/usr/local/bundle/bin",),
        env=(("LANG", "C.UTF-8"), ("GEM_HOME", "/usr/local/bundle"), ("BUNDLE_SILENCE_ROOT_WARNING", "1"),
             ("BUNDLE_APP_CONFIG", "/usr/local/bundle")),
        complete=True, source=_official_source("ruby"), as_of=_OFFICIAL_AS_OF,
    )


def _rust(tag: str, parent: Optional[str]) -> KnownImage:
    names = ("cargo rustc rustup rustdoc rustfmt cargo-fmt cargo-clippy clippy-driver rust-gdb rust-gdbgui rust-lldb")
    items = _files(" ".join(f"/usr/local/cargo/bin/{n}" for n in names.split()), "rustup-init",
                   "RUN ... ./rustup-init -y --no-modify-path --profile minimal ...")
    alpine = _alpine_of(tag) is not None
    slim = "slim" in tag
    if slim:
        items += _apt("ca-certificates gcc libc6-dev", "RUN apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev wget; ...; apt-get remove -y --auto-remove wget")
    if alpine:
        items += _apk("ca-certificates gcc", "RUN apk add --no-cache ca-certificates gcc")
    return KnownImage(
        f"rust:{tag}", parent, _dedupe(items), path_additions=("/usr/local/cargo/bin",),
        env=(("RUSTUP_HOME", "/usr/local/rustup"), ("CARGO_HOME", "/usr/local/cargo")),
        complete=True, source=_official_source("rust"), as_of=_OFFICIAL_AS_OF,
    )


_PHP_SCRIPTS = ("php php-config phpize pecl pear peardev docker-php-ext-configure docker-php-ext-enable "
                "docker-php-ext-install docker-php-source docker-php-entrypoint")


def _php(tag: str, parent: Optional[str]) -> KnownImage:
    items = _files(" ".join(f"/usr/local/bin/{n}" for n in _PHP_SCRIPTS.split()), "COPY docker-php-* / PHP make install",
                   "COPY docker-php-source docker-php-ext-* docker-php-entrypoint /usr/local/bin/", "COPY")
    alpine = _alpine_of(tag) is not None
    if "fpm" in tag:
        items += _files("/usr/local/sbin/php-fpm", "PHP make install", "RUN ... make install")
    if "apache" in tag:
        items += _files("/usr/local/bin/apache2-foreground", "COPY apache2-foreground", "COPY apache2-foreground /usr/local/bin/", "COPY")
        items += _apt("apache2", "RUN apt-get install -y --no-install-recommends apache2")
    if alpine:
        items += _apk("ca-certificates curl openssl tar xz", "RUN apk add --no-cache ca-certificates curl openssl tar xz")
    else:
        apt = "autoconf dpkg-dev file g++ gcc make pkg-config ca-certificates curl xz-utils"
        items += _apt(apt, "RUN apt-get install -y --no-install-recommends $PHPIZE_DEPS ca-certificates curl xz-utils")
        items += _files("/usr/bin/re2c", "apt-get install re2c", "RUN apt-get install -y --no-install-recommends $PHPIZE_DEPS ...")
    return KnownImage(
        f"php:{tag}", parent, _dedupe(items), env=(("PHP_INI_DIR", "/usr/local/etc/php"),),
        complete=False, unknown_dirs=("/usr/local/bin",) + (() if alpine else _SYSTEM_DIRS),
        workdir="/var/www/html" if ("apache" in tag or "fpm" in tag) else None,
        source=_official_source("php"), as_of=_OFFICIAL_AS_OF,
    )


def _buildpack_deps(tag: str, parent: Optional[str]) -> KnownImage:
    curl = "ca-certificates curl gnupg netbase wget"
    scm = "git mercurial openssh-client subversion procps"
    full = "autoconf automake bzip2 dpkg-dev file g++ gcc imagemagick libtool make patch unzip xz-utils"
    if tag.endswith("-curl") or tag == "curl":
        pkgs = curl
    elif tag.endswith("-scm") or tag == "scm":
        pkgs = scm
    else:
        pkgs = full
    items = _apt(pkgs, f"RUN apt-get install -y --no-install-recommends {pkgs} ...")
    return KnownImage(
        f"buildpack-deps:{tag}", parent, _dedupe(items), complete=False, unknown_dirs=_SYSTEM_DIRS,
        source=_official_source("buildpack-deps"), as_of=_OFFICIAL_AS_OF,
    )


def _temurin(tag: str, parent: Optional[str]) -> KnownImage:
    home = "/opt/java/openjdk"
    names = "java keytool"
    if "jre" not in tag:
        names += " javac jar jarsigner javadoc jshell jlink jcmd jdb jps jstack jmap jstat jdeps"
    items = _files(" ".join(f"{home}/bin/{n}" for n in names.split()), "Temurin release tarball",
                   "RUN ... tar --extract --file /tmp/openjdk.tar.gz --directory /opt/java/openjdk --strip-components 1")
    return KnownImage(
        f"eclipse-temurin:{tag}", parent, _dedupe(items), path_additions=(f"{home}/bin",),
        env=(("JAVA_HOME", home), ("LANG", "en_US.UTF-8")), complete=False,
        unknown_dirs=(f"{home}/bin",) + _SYSTEM_DIRS, source=_official_source("eclipse-temurin"), as_of=_OFFICIAL_AS_OF,
    )


def _maven(tag: str, parent: Optional[str]) -> KnownImage:
    items = _files("/usr/share/maven/bin/mvn /usr/share/maven/bin/mvnDebug /usr/bin/mvn", "Maven release tarball",
                   "RUN ... ln -s /usr/share/maven/bin/mvn /usr/bin/mvn")
    return KnownImage(
        f"maven:{tag}", parent, _dedupe(items), env=(("MAVEN_HOME", "/usr/share/maven"),), complete=False,
        unknown_dirs=_SYSTEM_DIRS, source=_official_source("maven"), as_of=_OFFICIAL_AS_OF,
    )


_OFFICIAL = {
    "python": _python, "node": _node, "golang": _golang, "ruby": _ruby, "rust": _rust,
    "php": _php, "buildpack-deps": _buildpack_deps, "eclipse-temurin": _temurin, "maven": _maven,
}

# --- other well-known images --------------------------------------------------------------


def _miniconda3(tag: str) -> KnownImage:
    apt = ("bzip2 ca-certificates git mercurial openssh-client procps subversion wget")
    items = _apt(apt, f"RUN apt-get install -y --no-install-recommends {apt} libglib2.0-0 libsm6 libxext6 libxrender1 ...")
    items += _files(
        " ".join(f"/opt/conda/bin/{n}" for n in "conda python python3 pip pip3 activate".split()),
        "Miniconda installer -b -p /opt/conda", "RUN ... bash miniconda.sh -b -p /opt/conda",
    )
    return KnownImage(
        f"continuumio/miniconda3:{tag}", "debian:bookworm-slim", _dedupe(items), path_additions=("/opt/conda/bin",),
        env=(("LANG", "C.UTF-8"), ("LC_ALL", "C.UTF-8")), complete=False,
        unknown_dirs=("/opt/conda/bin",) + _SYSTEM_DIRS,
        source="built-in knowledge of continuumio/miniconda3 (ContinuumIO/docker-images, miniconda3/debian/Dockerfile)",
        as_of="2024-10",
    )


def known_image(image_ref: str) -> Optional[KnownImage]:
    """Built-in knowledge of an image (familiar or normalised reference), or None."""
    from ..images import InvalidReference, parse_ref

    try:
        ref = parse_ref(image_ref.strip())
    except InvalidReference:
        return None
    tag = ref.tag or "latest"
    if ref.domain == "quay.io" and ref.path.startswith("jupyter/") and ref.path.count("/") == 1:
        known = _jupyter(ref.path.split("/", 1)[1], "quay")
        return _with_tag(known, tag) if known else None
    if ref.domain == "docker.io" and ref.path.startswith("jupyter/") and ref.path.count("/") == 1:
        known = _jupyter(ref.path.split("/", 1)[1], "hub")
        return _with_tag(known, tag) if known else None
    if ref.domain == "docker.io" and ref.path == "continuumio/miniconda3":
        return _miniconda3(tag)
    if ref.domain == "docker.io" and ref.path.startswith("library/") and ref.path.count("/") == 1:
        repo = ref.path.split("/", 1)[1]
        builder = _OFFICIAL.get(repo)
        if builder is None or ref.tag is None:
            return None
        row = official_parent(f"{repo}:{tag}")
        parent = row[0] if row else _infer_parent(repo, tag)
        if parent in ("(root)", "scratch"):
            parent = None
        if parent is not None and parent.startswith("mcr.microsoft.com/"):
            return None
        known = builder(tag, parent)
        if parent is None:
            # what lies under it is not known: nothing may be called missing
            from dataclasses import replace

            known = replace(known, complete=False, unknown_dirs=())
        return known
    return None


def _with_tag(known: KnownImage, tag: str) -> KnownImage:
    """The same image under ``tag``: the stack is built and tagged together, so a tagged
    child's parent carries the same tag."""
    from dataclasses import replace

    parent = known.parent
    if parent is not None and parent.startswith(("quay.io/jupyter/", "jupyter/")) and tag != "latest":
        parent = f"{parent}:{tag}"
    if known.name.endswith(("docker-stacks-foundation",)) and "ubuntu-22.04" in tag:
        parent = "ubuntu:22.04"
    return replace(known, name=f"{known.name}:{tag}", parent=parent)


# --- official images' parents table -------------------------------------------------------

_PARENTS: Optional[dict] = None


def _load_parents() -> dict:
    global _PARENTS
    if _PARENTS is None:
        index: dict = {}
        with open(OFFICIAL_PARENTS_TSV, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip() or line.startswith("#"):
                    continue
                cols = line.rstrip("\n").split("\t")
                if len(cols) < 5 or cols[0] == "image":
                    continue
                image, parent, repo, commit, path = cols[:5]
                if parent.startswith("(root"):
                    parent = "(root)"
                index.setdefault(image, []).append((parent, repo, commit, path))
        _PARENTS = index
    return _PARENTS


def _table_key(ref: str) -> Optional[str]:
    from ..images import InvalidReference, parse_ref

    try:
        parsed = parse_ref(ref.strip())
    except InvalidReference:
        return None
    if parsed.domain != "docker.io" or not parsed.path.startswith("library/") or parsed.tag is None:
        return None
    return f"{parsed.path[len('library/'):]}:{parsed.tag}"


_PARENTS_TEXT: Optional[str] = None
_ROWS: dict = {}


def _rows_of(key: str) -> tuple:
    """The table's rows for one tag, found by searching the text for lines that start
    with it: one look-up costs far less than indexing the whole table."""
    global _PARENTS_TEXT
    if _PARENTS is not None:
        return tuple(_PARENTS.get(key, ()))
    if key not in _ROWS:
        if _PARENTS_TEXT is None:
            with open(OFFICIAL_PARENTS_TSV, encoding="utf-8") as fh:
                _PARENTS_TEXT = "\n" + fh.read()
        text, needle, rows = _PARENTS_TEXT, f"\n{key}\t", []
        at = text.find(needle)
        while at >= 0:
            end = text.find("\n", at + 1)
            cols = text[at + 1 : end if end >= 0 else len(text)].split("\t")
            if len(cols) >= 5:
                parent = "(root)" if cols[1].startswith("(root") else cols[1]
                rows.append((parent, *cols[2:5]))
            at = text.find(needle, at + 1)
        _ROWS[key] = tuple(rows)
    return _ROWS[key]


def official_parents(image_ref: str) -> list:
    """Every row of the table for an official image tag (a shared tag has one per
    platform family): ``[(parent, repo, commit, path), ...]``."""
    key = _table_key(image_ref)
    if key is None:
        return []
    return list(_rows_of(key))


def official_parent(image_ref: str) -> Optional[tuple]:
    """``(parent, repo, commit, dockerfile path)`` of an official image tag, the Linux
    build first; ``parent`` is ``"(root)"`` for a rootfs import and ``"scratch"`` for
    ``FROM scratch``. None if the tag is not in the table."""
    rows = official_parents(image_ref)
    if not rows:
        return None
    for row in rows:
        if not row[0].startswith("mcr.microsoft.com/"):
            return row
    return rows[0]
