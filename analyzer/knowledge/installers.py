"""Language installers and the commands they put on PATH.

* pip / pip3 / ``python -m pip``: a distribution's console scripts (``awscli`` -> ``aws``).
* conda / mamba / micromamba: the executables a conda package puts in ``PREFIX/bin``.
* ``npm install -g``: a package's ``bin`` entries (``typescript`` -> ``tsc``).
* ``gem install``: a gem's executables (``bundler`` -> ``bundle``).
* ``cargo install``: a crate's binaries (``ripgrep`` -> ``rg``).
* ``go install``: the last element of the package path (``.../cmd/gopls@latest`` -> ``gopls``).
* installer scripts (Miniforge, Miniconda, rustup, uv, nvm, NodeSource...): what each puts
  where, recognised from the script's URL or file name.

Console scripts come from each project's own packaging metadata (entry points, ``bin``
fields, gemspec executables, Cargo ``[[bin]]``), as of 2026-11. Entries name the package's
own commands; ``*_DEPENDS`` names the dependencies whose commands come along. A conda
package missing from the conda table is looked up in the pip table (conda-forge builds of
Python projects declare the same entry points). Unknown package -> None: its commands are
unknown, never missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional
from ..lazyre import lazy

__all__ = [
    "commands_of",
    "own_commands_of",
    "normalize_spec",
    "go_binary",
    "InstallerScript",
    "installer_script",
    "CONDA_INSTALLER_DEFAULT_DIRS",
    "SOURCE",
    "AS_OF",
]

SOURCE = "console scripts declared by each package's own metadata"
AS_OF = "2026-11"

# --- pip (keys are PEP 503 normalised names) --------------------------------------------

_PIP = {
    "pip": "pip pip3",
    "wheel": "wheel",
    "setuptools": "",
    "virtualenv": "virtualenv",
    "pipenv": "pipenv pipenv-resolver",
    "poetry": "poetry",
    "pdm": "pdm",
    "hatch": "hatch",
    "flit": "flit",
    "uv": "uv uvx",
    "pipx": "pipx",
    "pip-tools": "pip-compile pip-sync",
    "build": "pyproject-build",
    "twine": "twine",
    "tox": "tox",
    "nox": "nox",
    "pre-commit": "pre-commit",
    "black": "black blackd",
    "flake8": "flake8",
    "pylint": "pylint pyreverse symilar pylint-config",
    "isort": "isort isort-identify-imports",
    "ruff": "ruff",
    "mypy": "mypy dmypy mypyc stubgen stubtest",
    "pyright": "pyright pyright-langserver",
    "yapf": "yapf",
    "autopep8": "autopep8",
    "bandit": "bandit bandit-baseline bandit-config-generator",
    "pytest": "pytest py.test",
    "coverage": "coverage",
    "ipython": "ipython ipython3",
    "ipykernel": "",
    "jupyter": "",
    "jupyter-core": "jupyter jupyter-migrate jupyter-troubleshoot",
    "jupyter-client": "jupyter-kernel jupyter-kernelspec jupyter-run",
    "jupyter-server": "jupyter-server",
    "jupyterlab": "jupyter-lab jupyter-labextension jupyter-labhub",
    "notebook": "jupyter-notebook",
    "nbclassic": "jupyter-nbclassic jupyter-nbclassic-extension jupyter-nbclassic-serverextension jupyter-nbclassic-bundlerextension",
    "nbconvert": "jupyter-nbconvert jupyter-dejavu",
    "nbformat": "jupyter-trust",
    "jupyter-console": "jupyter-console",
    "jupyterhub": "jupyterhub jupyterhub-singleuser",
    "voila": "voila",
    "jupytext": "jupytext",
    "papermill": "papermill",
    "nbstripout": "nbstripout",
    "kaggle": "kaggle",
    "awscli": "aws aws_completer",
    "ansible": "",
    "ansible-core": "ansible ansible-config ansible-console ansible-doc ansible-galaxy ansible-inventory ansible-playbook ansible-pull ansible-test ansible-vault",
    "httpie": "http https httpie",
    "gunicorn": "gunicorn",
    "uvicorn": "uvicorn",
    "hypercorn": "hypercorn",
    "celery": "celery",
    "django": "django-admin",
    "flask": "flask",
    "fastapi": "fastapi",
    "fastapi-cli": "fastapi",
    "streamlit": "streamlit",
    "gradio": "gradio",
    "mlflow": "mlflow",
    "dvc": "dvc",
    "apache-airflow": "airflow",
    "dbt-core": "dbt",
    "prefect": "prefect",
    "dagster": "dagster",
    "alembic": "alembic",
    "sqlfluff": "sqlfluff",
    "supervisor": "supervisord supervisorctl echo_supervisord_conf pidproxy",
    "docker-compose": "docker-compose",
    "yt-dlp": "yt-dlp",
    "youtube-dl": "youtube-dl",
    "gdown": "gdown",
    "yq": "yq xq tomlq",
    "invoke": "invoke inv",
    "fabric": "fab",
    "locust": "locust",
    "scrapy": "scrapy",
    "pyinstaller": "pyinstaller pyi-archive_viewer pyi-bindepend pyi-grab_version pyi-makespec pyi-set_version",
    "sphinx": "sphinx-build sphinx-quickstart sphinx-apidoc sphinx-autogen",
    "mkdocs": "mkdocs",
    "cookiecutter": "cookiecutter",
    "conan": "conan",
    "cmake": "cmake ctest cpack",
    "ninja": "ninja",
    "meson": "meson",
    "nodeenv": "nodeenv",
    "cython": "cython cythonize cygdb",
    "numpy": "f2py numpy-config",
    "pandas": "",
    "scipy": "",
    "matplotlib": "",
    "scikit-learn": "",
    "requests": "",
    "charset-normalizer": "normalizer",
    "tqdm": "tqdm",
    "python-slugify": "slugify",
    "pygments": "pygmentize",
    "markdown": "markdown_py",
    "rich": "",
    "click": "",
    "typer": "typer",
    "tensorboard": "tensorboard",
    "tensorflow": "saved_model_cli tflite_convert toco import_pb_to_tensorboard estimator_ckpt_converter",
    "torch": "torchrun",
    "transformers": "transformers-cli transformers",
    "huggingface-hub": "huggingface-cli hf",
    "datasets": "datasets-cli",
    "openai": "openai",
    "azure-cli": "az",
    "gsutil": "gsutil",
    "python-dotenv": "dotenv",
    "pyyaml": "",
    "boto3": "",
    "psycopg2": "",
    "psycopg2-binary": "",
}

_PIP_DEPENDS = {
    "jupyter": ("notebook", "jupyterlab", "ipykernel", "nbconvert", "jupyter-console"),
    "notebook": ("jupyter-server", "jupyterlab", "jupyter-core"),
    "jupyterlab": ("jupyter-server", "jupyter-core", "ipykernel"),
    "nbclassic": ("notebook", "jupyter-server"),
    "jupyter-server": ("jupyter-core", "jupyter-client", "nbconvert", "nbformat"),
    "jupyter-client": ("jupyter-core",),
    "ipykernel": ("ipython", "jupyter-client"),
    "nbconvert": ("jupyter-core", "nbformat"),
    "nbformat": ("jupyter-core",),
    "jupyter-console": ("ipykernel", "jupyter-client"),
    "jupyterhub": ("alembic",),
    "voila": ("jupyter-server", "nbconvert"),
    "papermill": ("nbformat",),
    "jupytext": ("nbformat",),
    "ansible": ("ansible-core",),
    "kaggle": ("tqdm", "python-slugify", "requests"),
    "requests": ("charset-normalizer",),
    "black": ("click",),
    "pipenv": ("virtualenv",),
    "tox": ("virtualenv",),
    "poetry": ("virtualenv",),
    "pre-commit": ("virtualenv",),
    "hatch": ("virtualenv",),
    "sphinx": ("pygments",),
    "ipython": ("pygments",),
    "httpie": ("pygments", "requests"),
    "tensorflow": ("tensorboard", "numpy"),
    "torch": (),
    "transformers": ("huggingface-hub", "tqdm", "numpy"),
    "datasets": ("huggingface-hub", "tqdm", "numpy"),
    "huggingface-hub": ("tqdm",),
    "pandas": ("numpy",),
    "scipy": ("numpy",),
    "matplotlib": ("numpy",),
    "scikit-learn": ("numpy", "scipy"),
    "openai": ("tqdm",),
    "streamlit": (),
    "mlflow": ("flask", "alembic", "gunicorn"),
    "apache-airflow": ("flask", "alembic", "gunicorn"),
    "celery": (),
    "typer": (),
    "fastapi": (),
    "gdown": ("tqdm", "requests"),
}

# --- conda (conda-forge / defaults package names) -----------------------------------------

_CONDA = {
    "python": "python python3 pydoc pydoc3 python3-config 2to3 idle3",
    "pip": "pip pip3",
    "conda": "conda",
    "mamba": "mamba",
    "micromamba": "micromamba",
    "conda-build": "conda-build conda-render conda-debug conda-develop conda-index conda-inspect conda-metapackage conda-skeleton conda-convert",
    "jupyter": "",
    "jupyter_core": "jupyter jupyter-migrate jupyter-troubleshoot",
    "jupyter_client": "jupyter-kernel jupyter-kernelspec jupyter-run",
    "jupyter_server": "jupyter-server",
    "jupyterlab": "jupyter-lab jupyter-labextension jupyter-labhub",
    "notebook": "jupyter-notebook",
    "nbclassic": "jupyter-nbclassic",
    "nbconvert": "jupyter-nbconvert jupyter-dejavu",
    "nbconvert-core": "jupyter-nbconvert jupyter-dejavu",
    "nbformat": "jupyter-trust",
    "jupyterhub": "jupyterhub jupyterhub-singleuser",
    "jupyterhub-base": "jupyterhub",
    "jupyterhub-singleuser": "jupyterhub-singleuser",
    "ipython": "ipython ipython3",
    "ipykernel": "",
    "nodejs": "node npm npx corepack",
    "git": "git",
    "r-base": "R Rscript",
    "numpy": "f2py",
    "cython": "cython cythonize cygdb",
    "cmake": "cmake ctest cpack",
    "make": "make",
    "ninja": "ninja",
    "gcc": "gcc",
    "gxx": "g++",
    "openjdk": "java javac jar keytool",
    "go": "go gofmt",
    "rust": "cargo rustc",
    "curl": "curl",
    "wget": "wget",
    "ffmpeg": "ffmpeg ffprobe",
    "jq": "jq",
    "pandoc": "pandoc",
    "openssl": "openssl",
    "sqlite": "sqlite3",
    "tqdm": "tqdm",
    "black": "black",
    "pytest": "pytest py.test",
    "awscli": "aws",
    "dask": "dask",
    "distributed": "dask-scheduler dask-worker dask-ssh",
    "numba": "numba",
    "sympy": "isympy",
    "bokeh": "bokeh",
    "h5py": "",
    "pandas": "",
    "scipy": "",
    "matplotlib": "",
    "matplotlib-base": "",
    "scikit-learn": "",
    "seaborn": "",
    "tensorboard": "tensorboard",
    "pyspark": "pyspark spark-submit spark-shell",
    "julia": "julia",
    "uv": "uv uvx",
}

_CONDA_DEPENDS = {
    "python": ("pip",),
    "mamba": ("conda",),
    "conda": ("python",),
    "jupyter": ("notebook", "jupyterlab", "ipykernel", "nbconvert"),
    "jupyterlab": ("jupyter_server", "jupyter_core", "ipykernel"),
    "notebook": ("jupyter_server", "jupyterlab", "jupyter_core"),
    "nbclassic": ("notebook", "jupyter_server"),
    "jupyter_server": ("jupyter_core", "jupyter_client", "nbconvert-core", "nbformat"),
    "jupyter_client": ("jupyter_core",),
    "ipykernel": ("ipython", "jupyter_client"),
    "nbconvert": ("nbconvert-core",),
    "nbconvert-core": ("jupyter_core", "nbformat"),
    "nbformat": ("jupyter_core",),
    "jupyterhub": ("jupyterhub-base", "jupyterhub-singleuser"),
    "jupyterhub-singleuser": ("jupyterhub-base", "jupyterlab"),
    "dask": ("distributed",),
    "ipython": ("python",),
    "jupyter_core": ("python",),
}

# --- npm -g (package -> bin names) --------------------------------------------------------

_NPM = {
    "npm": "npm npx",
    "yarn": "yarn yarnpkg",
    "pnpm": "pnpm pnpx",
    "corepack": "corepack",
    "typescript": "tsc tsserver",
    "ts-node": "ts-node ts-node-cwd ts-node-esm ts-node-script ts-node-transpile-only ts-script",
    "tsx": "tsx",
    "@angular/cli": "ng",
    "@vue/cli": "vue",
    "@nestjs/cli": "nest",
    "create-react-app": "create-react-app",
    "nodemon": "nodemon",
    "pm2": "pm2 pm2-dev pm2-docker pm2-runtime",
    "forever": "forever",
    "serve": "serve",
    "http-server": "http-server hs",
    "eslint": "eslint",
    "prettier": "prettier",
    "firebase-tools": "firebase",
    "vercel": "vercel vc",
    "netlify-cli": "netlify ntl",
    "aws-cdk": "cdk",
    "serverless": "serverless sls",
    "gulp-cli": "gulp",
    "gulp": "gulp",
    "grunt-cli": "grunt",
    "webpack": "webpack",
    "webpack-cli": "webpack-cli",
    "lerna": "lerna",
    "nx": "nx",
    "turbo": "turbo",
    "playwright": "playwright",
    "@playwright/test": "playwright",
    "node-gyp": "node-gyp",
    "npm-check-updates": "ncu npm-check-updates",
    "json-server": "json-server",
    "@mermaid-js/mermaid-cli": "mmdc",
    "markdownlint-cli": "markdownlint",
    "configurable-http-proxy": "configurable-http-proxy",
    "@devcontainers/cli": "devcontainer",
    "snyk": "snyk",
    "bower": "bower",
    "@vscode/vsce": "vsce",
    "@google/clasp": "clasp",
    "@ionic/cli": "ionic",
    "cordova": "cordova",
    "gatsby-cli": "gatsby",
    "sass": "sass",
    "less": "lessc",
    "uglify-js": "uglifyjs",
    "terser": "terser",
    "browserify": "browserify",
    "semantic-release": "semantic-release",
    "@commitlint/cli": "commitlint",
    "concurrently": "concurrently conc",
    "rimraf": "rimraf",
    "cross-env": "cross-env cross-env-shell",
    "dotenv-cli": "dotenv",
    "zx": "zx",
    "esbuild": "esbuild",
    "vite": "vite",
    "svgo": "svgo",
    "pyright": "pyright pyright-langserver",
    "wrangler": "wrangler wrangler2",
    "mocha": "mocha _mocha",
    "jest": "jest",
    "yo": "yo yo-complete",
    "heroku": "heroku",
    "@railway/cli": "railway",
    "localtunnel": "lt",
    "node-red": "node-red node-red-pi",
    "@bitwarden/cli": "bw",
    "@anthropic-ai/claude-code": "claude",
    "@openapitools/openapi-generator-cli": "openapi-generator-cli",
    "@redocly/cli": "redocly openapi",
    "newman": "newman",
    "artillery": "artillery",
    "lighthouse": "lighthouse",
    "pkg": "pkg",
    "n": "n",
}
_NPM_DEPENDS: dict = {}

# --- gem -----------------------------------------------------------------------------------

_GEM = {
    "bundler": "bundle bundler",
    "rails": "rails",
    "railties": "rails",
    "rake": "rake",
    "rspec": "",
    "rspec-core": "rspec",
    "rubocop": "rubocop",
    "jekyll": "jekyll",
    "fpm": "fpm",
    "cocoapods": "pod",
    "fastlane": "fastlane bin-proxy",
    "puma": "puma pumactl",
    "foreman": "foreman",
    "pry": "pry",
    "solargraph": "solargraph",
    "asciidoctor": "asciidoctor",
    "asciidoctor-pdf": "asciidoctor-pdf",
    "thor": "thor",
    "rackup": "rackup",
    "sidekiq": "sidekiq sidekiqmon",
    "unicorn": "unicorn unicorn_rails",
    "capistrano": "cap capify",
    "kramdown": "kramdown",
    "danger": "danger",
    "mailcatcher": "mailcatcher catchmail",
    "nokogiri": "nokogiri",
    "sass": "sass sass-convert scss",
    "compass": "compass",
    "github-pages": "github-pages",
    "licensed": "licensed",
    "irb": "irb",
    "rdoc": "rdoc ri",
    "racc": "racc",
    "foodcritic": "foodcritic",
    "serverspec": "",
    "inspec": "inspec",
    "chef": "chef-apply chef-client chef-shell chef-solo knife",
    "berkshelf": "berks",
    "test-kitchen": "kitchen",
    "haml": "haml",
    "slim": "slimrb",
    "erb_lint": "erblint",
    "brakeman": "brakeman",
    "bundler-audit": "bundle-audit bundler-audit",
}
_GEM_DEPENDS = {"rails": ("railties", "bundler", "rake", "thor"), "railties": ("rake", "thor"), "rspec": ("rspec-core",),
                "jekyll": ("kramdown",), "fpm": (), "github-pages": ("jekyll",), "cocoapods": ()}

# --- cargo install -------------------------------------------------------------------------

_CARGO = {
    "ripgrep": "rg",
    "fd-find": "fd",
    "bat": "bat",
    "exa": "exa",
    "eza": "eza",
    "cargo-watch": "cargo-watch",
    "cargo-edit": "cargo-add cargo-rm cargo-upgrade cargo-set-version",
    "sccache": "sccache",
    "wasm-pack": "wasm-pack",
    "trunk": "trunk",
    "diesel_cli": "diesel",
    "sqlx-cli": "sqlx cargo-sqlx",
    "cargo-make": "cargo-make makers",
    "just": "just",
    "tokei": "tokei",
    "hyperfine": "hyperfine",
    "starship": "starship",
    "zoxide": "zoxide",
    "du-dust": "dust",
    "bottom": "btm",
    "git-delta": "delta",
    "mdbook": "mdbook",
    "cargo-audit": "cargo-audit",
    "cargo-deny": "cargo-deny",
    "cargo-nextest": "cargo-nextest",
    "cross": "cross cross-util",
    "wasm-bindgen-cli": "wasm-bindgen wasm-bindgen-test-runner wasm2es6js",
    "cargo-chef": "cargo-chef",
    "typos-cli": "typos",
    "cargo-binstall": "cargo-binstall",
    "watchexec-cli": "watchexec",
    "procs": "procs",
    "sd": "sd",
    "xh": "xh",
    "cargo-tarpaulin": "cargo-tarpaulin",
    "cargo-llvm-cov": "cargo-llvm-cov",
    "cargo-outdated": "cargo-outdated",
    "cargo-expand": "cargo-expand",
    "cargo-generate": "cargo-generate",
    "cargo-leptos": "cargo-leptos",
    "tauri-cli": "cargo-tauri",
    "sea-orm-cli": "sea-orm-cli sea",
    "cargo-udeps": "cargo-udeps",
    "cargo-machete": "cargo-machete",
    "taplo-cli": "taplo",
    "mdbook-mermaid": "mdbook-mermaid",
    "bindgen-cli": "bindgen",
    "cbindgen": "cbindgen",
    "rustfilt": "rustfilt",
    "wasm-tools": "wasm-tools",
    "wasmtime-cli": "wasmtime",
    "zellij": "zellij",
    "nu": "nu",
    "alacritty": "alacritty",
    "lsd": "lsd",
    "broot": "broot",
    "tealdeer": "tldr",
}

_TABLES = {
    "pip": (_PIP, _PIP_DEPENDS),
    "conda": (_CONDA, _CONDA_DEPENDS),
    "npm": (_NPM, _NPM_DEPENDS),
    "gem": (_GEM, _GEM_DEPENDS),
    "cargo": (_CARGO, {}),
}


def _pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_PIP_SPEC = lazy(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(?:[<>=!~;@ ].*)?$")
_CONDA_SPEC = lazy(r"^(?:[A-Za-z0-9_.\-/]+::)?([A-Za-z0-9][A-Za-z0-9_.\-]*)\s*(?:[<>=!~ \[].*)?$")
_NPM_SPEC = lazy(r"^(@[a-z0-9][a-z0-9._~-]*/[a-z0-9][a-z0-9._~-]*|[a-z0-9][a-z0-9._~-]*)(?:@.*)?$")
_GEM_SPEC = lazy(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)(?::.*)?$")


def normalize_spec(installer: str, spec: str) -> Optional[str]:
    """The package name in an install argument, or None when the argument is not a
    registry package (a path, a URL, a VCS reference, a variable)."""
    spec = spec.strip()
    if not spec or "$" in spec or "`" in spec or "://" in spec or spec.startswith(("-", ".", "/", "~", "git+")):
        return None
    if installer == "pip":
        if spec.endswith((".whl", ".tar.gz", ".zip")) or "/" in spec:
            return None
        m = _PIP_SPEC.match(spec)
        return _pep503(m.group(1)) if m else None
    if installer == "conda":
        if spec.endswith((".tar.bz2", ".conda")):
            return None
        m = _CONDA_SPEC.match(spec)
        return m.group(1).lower() if m else None
    if installer == "npm":
        if spec.endswith((".tgz", ".tar.gz")) or spec.startswith(("file:", "github:", "git:")):
            return None
        m = _NPM_SPEC.match(spec)
        return m.group(1) if m else None
    if installer in ("gem", "cargo"):
        if "/" in spec or spec.endswith(".gem"):
            return None
        m = _GEM_SPEC.match(spec)
        return m.group(1) if m else None
    return None


def own_commands_of(installer: str, package: str) -> Optional[tuple[str, ...]]:
    table = _TABLES.get(installer)
    if table is None:
        return None
    key = _pep503(package) if installer == "pip" else package
    spec = table[0].get(key)
    if spec is None and installer == "conda":
        spec = table[0].get(key.replace("-", "_")) or table[0].get(key.replace("_", "-"))
        if spec is None:
            # conda-forge builds of Python projects declare the same entry points as on PyPI
            return own_commands_of("pip", package)
    return tuple(spec.split()) if spec is not None else None


def _conda_key(package: str) -> Optional[str]:
    for key in (package, package.replace("-", "_"), package.replace("_", "-")):
        if key in _CONDA:
            return key
    return None


def commands_of(installer: str, package: str) -> Optional[tuple[str, ...]]:
    """Command names ``installer`` (pip, conda, npm, gem, cargo) puts in its scripts
    directory when installing ``package``, dependencies' commands included; None if the
    package is not known."""
    own = own_commands_of(installer, package)
    if own is None:
        return None
    if installer == "conda" and _conda_key(package) is None:
        return commands_of("pip", package)
    table, depends = _TABLES[installer]
    out = list(own)
    key = _pep503(package) if installer == "pip" else package
    seen = {key}
    queue = list(depends.get(key, ()))
    while queue:
        dep = queue.pop(0)
        if dep in seen:
            continue
        seen.add(dep)
        for name in (table.get(dep) or "").split():
            if name not in out:
                out.append(name)
        queue.extend(depends.get(dep, ()))
    return tuple(out)


def go_binary(package_path: str) -> Optional[str]:
    """The binary ``go install PATH[@VERSION]`` builds: the last path element, skipping a
    major-version suffix (``.../v2``). None for ``.``/``./...`` and patterns."""
    path = package_path.split("@", 1)[0].rstrip("/")
    if not path or path.startswith(".") or "..." in path or "$" in path:
        return None
    parts = path.split("/")
    last = parts[-1]
    if re.fullmatch(r"v\d+", last) and len(parts) > 1:
        last = parts[-2]
    return last or None


# --- installer scripts ---------------------------------------------------------------------


@dataclass(frozen=True)
class InstallerScript:
    """A known installer script and what it installs where."""

    kind: str  # conda | rustup | uv | nvm | nodesource | get-pip | poetry | pyenv | bun | deno | docker | helm | sdkman
    label: str  # human name, e.g. "Miniforge installer"
    commands: tuple[str, ...] = ()  # what it puts in its bin directory
    default_dir: str = ""  # bin directory ("~" is the user's home) when not told otherwise


CONDA_INSTALLER_DEFAULT_DIRS = {
    "Miniconda": "~/miniconda3",
    "Anaconda": "~/anaconda3",
    "Miniforge": "~/miniforge3",
    "Mambaforge": "~/mambaforge",
}
_CONDA_INSTALLER_COMMANDS = ("conda", "python", "python3", "pip", "pip3", "activate")

_SCRIPT_PATTERNS = (
    (re.compile(r"miniforge", re.I), InstallerScript("conda", "Miniforge installer", _CONDA_INSTALLER_COMMANDS + ("mamba",), "~/miniforge3/bin")),
    (re.compile(r"mambaforge", re.I), InstallerScript("conda", "Mambaforge installer", _CONDA_INSTALLER_COMMANDS + ("mamba",), "~/mambaforge/bin")),
    (re.compile(r"miniconda", re.I), InstallerScript("conda", "Miniconda installer", _CONDA_INSTALLER_COMMANDS, "~/miniconda3/bin")),
    (re.compile(r"anaconda\d?-[^/]*\.sh", re.I), InstallerScript("conda", "Anaconda installer", _CONDA_INSTALLER_COMMANDS, "~/anaconda3/bin")),
    (re.compile(r"sh\.rustup\.rs|rustup-init|rustup\.rs", re.I), InstallerScript(
        "rustup", "rustup installer",
        ("cargo", "rustc", "rustup", "rustdoc", "rustfmt", "cargo-fmt", "cargo-clippy", "clippy-driver", "rust-gdb", "rust-gdbgui", "rust-lldb"),
        "~/.cargo/bin")),
    (re.compile(r"astral\.sh/uv|/uv-installer\.sh|uv/install\.sh|astral-sh/uv/.*install", re.I), InstallerScript("uv", "uv installer", ("uv", "uvx"), "~/.local/bin")),
    (re.compile(r"nvm-sh/nvm|creationix/nvm|/nvm/.*install\.sh", re.I), InstallerScript("nvm", "nvm installer", (), "~/.nvm")),
    (re.compile(r"deb\.nodesource\.com|rpm\.nodesource\.com", re.I), InstallerScript("nodesource", "NodeSource repository setup")),
    (re.compile(r"get-pip\.py", re.I), InstallerScript("get-pip", "get-pip.py", ("pip", "pip3"), "")),
    (re.compile(r"install\.python-poetry\.org|get-poetry\.py|python-poetry/install", re.I), InstallerScript("poetry", "Poetry installer", ("poetry",), "~/.local/bin")),
    (re.compile(r"pyenv\.run|pyenv-installer", re.I), InstallerScript("pyenv", "pyenv installer", ("pyenv",), "~/.pyenv/bin")),
    (re.compile(r"bun\.sh/install", re.I), InstallerScript("bun", "Bun installer", ("bun", "bunx"), "~/.bun/bin")),
    (re.compile(r"deno\.land/install|deno\.land/x/install", re.I), InstallerScript("deno", "Deno installer", ("deno",), "~/.deno/bin")),
    (re.compile(r"get\.docker\.com|test\.docker\.com", re.I), InstallerScript("docker", "Docker install script", ("docker", "dockerd", "containerd", "ctr", "runc"), "/usr/bin")),
    (re.compile(r"get-helm-3|helm/helm/.*/get", re.I), InstallerScript("helm", "Helm install script", ("helm",), "/usr/local/bin")),
    (re.compile(r"get\.sdkman\.io", re.I), InstallerScript("sdkman", "SDKMAN installer", (), "~/.sdkman")),
)


def installer_script(text: str) -> Optional[InstallerScript]:
    """The installer a URL or script file name is, or None."""
    for pattern, script in _SCRIPT_PATTERNS:
        if pattern.search(text):
            return script
    return None
