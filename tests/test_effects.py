import posixpath

import pytest

from analyzer.effects import Effect, RunMemory, effects_of, home_of, needs_root, package_manager_of
from analyzer.model import Script
from analyzer.shell import commands

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def make_script(text: str) -> Script:
    segments = []
    offset = 0
    for i, physical in enumerate(text.split("\n")):
        segments.append((offset, 1 + i, 1))
        offset += len(physical) + 1
    return Script(text, tuple(segments))


class View:
    """A tiny image state: executables by full path, the RUN's environment."""

    def __init__(self, files=(), env=None, family="debian", user="root", workdir="/"):
        self.files = set(files)
        self.env = {"PATH": DEFAULT_PATH, **(env or {})}
        self.family = family
        self.user = user
        self.workdir = workdir

    def which(self, name):
        if "/" in name:
            return name if name in self.files else None
        for d in self.env["PATH"].split(":"):
            if d and f"{d}/{name}" in self.files:
                return f"{d}/{name}"
        return None


def run(text, view=None, memory=None, shell="sh"):
    """Effects of every command of ``text``, applied in order like a RUN."""
    view = view if view is not None else View()
    if memory is not None:
        memory.begin_run()
    found = []
    for cmd in commands(make_script(text), shell):
        effects = effects_of(cmd, view, memory)
        for eff in effects:
            assert isinstance(eff, Effect) and type(eff) is Effect
            found.append(eff)
            if eff.kind == "provide":
                view.files.add(eff.path)
            elif eff.kind == "remove":
                target = eff.path.rstrip("/")
                view.files = {f for f in view.files if f != target and not f.startswith(target + "/")}
            elif eff.kind == "path":
                view.env["PATH"] = eff.path
    return found


def kinds(effects, kind):
    return [e.path for e in effects if e.kind == kind]


def provided(effects):
    return set(kinds(effects, "provide"))


# -- system package managers -----------------------------------------------------------


@pytest.mark.parametrize(
    "text, family, expected",
    [
        ("apt-get install -y wget", "debian", {"/usr/bin/wget", "/bin/wget"}),
        ("apt-get -y install --no-install-recommends curl=7.88.1-10 git", "debian", {"/usr/bin/curl", "/usr/bin/git"}),
        ("apt install -y locales", "ubuntu", {"/usr/sbin/locale-gen"}),
        ("apt-get install -yq -o Dpkg::Options::=--force-confold sudo", "debian", {"/usr/bin/sudo"}),
        ("DEBIAN_FRONTEND=noninteractive apt-get install -y tini", "debian", {"/usr/bin/tini"}),
        ("apk add --no-cache bash curl", "alpine", {"/bin/bash", "/usr/bin/curl"}),
        ("apk add -U py3-pip", "alpine", {"/usr/bin/pip3", "/usr/bin/python3"}),
        ("yum install -y which procps-ng", "rhel", {"/usr/bin/which", "/usr/bin/ps"}),
        ("dnf -y --setopt=tsflags=nodocs install git", "rhel", {"/usr/bin/git"}),
        ("microdnf install -y shadow-utils", "rhel", {"/usr/sbin/useradd"}),
        ("dnf groupinstall -y 'Development Tools'", "rhel", {"/usr/bin/gcc", "/usr/bin/make"}),
        ("zypper --non-interactive install -y python3-pip", "suse", {"/usr/bin/pip3"}),
    ],
)
def test_package_installs(text, family, expected):
    found = provided(run(text, View(family=family)))
    assert expected <= found, expected - found


def test_install_says_which_package():
    effects = run("apt-get install -y wget ca-certificates")
    wget = next(e for e in effects if e.path == "/usr/bin/wget")
    assert (wget.command, wget.via, wget.package) == ("wget", "apt-get install wget", "wget")
    openssl = next(e for e in effects if e.path == "/usr/bin/openssl")
    assert openssl.package == "ca-certificates"


def test_unknown_packages_are_unknown_never_nothing():
    effects = run("apt-get install -y $EXTRA_PACKAGES some-unheard-of-package")
    unknown = [e for e in effects if e.kind == "unknown-provide"]
    assert {e.path for e in unknown} == {"/usr/bin", "/usr/sbin", "/bin", "/sbin"}
    assert {e.package for e in unknown} == {None, "some-unheard-of-package"}
    assert not provided(effects)


def test_variables_known_to_the_run_are_expanded():
    effects = run('apt-get install -y "$TOOLS"', View(env={"TOOLS": "jq"}))
    assert "/usr/bin/jq" in provided(effects)


def test_packages_from_stdin_are_unknown():
    effects = run("xargs apt-get install -y < packages.txt")
    assert kinds(effects, "unknown-provide")


def test_purge_removes_the_package_own_commands_only():
    view = View({"/usr/bin/wget", "/usr/bin/git", "/usr/bin/perl"})
    effects = run("apt-get purge -y --auto-remove wget git", view)
    removed = set(kinds(effects, "remove"))
    assert {"/usr/bin/wget", "/usr/bin/git"} <= removed
    assert "/usr/bin/perl" not in removed  # perl-base is essential, not git's
    assert view.files == {"/usr/bin/perl"}


def test_install_then_remove_in_one_run():
    view = View()
    run("apt-get install -y wget && wget -q https://x/y && apt-get remove -y wget", view)
    assert "/usr/bin/wget" not in view.files


def test_apk_virtual_group():
    memory = RunMemory()
    view = View(family="alpine")
    run("apk add --no-cache --virtual .build-deps gcc make && make && apk del .build-deps", view, memory)
    assert "/usr/bin/gcc" not in view.files and "/usr/bin/make" not in view.files
    assert ".build-deps" not in memory.apk_virtual


def test_apk_virtual_group_needs_memory():
    view = View(family="alpine")
    run("apk add -t .deps gcc && apk del .deps", view)
    assert "/usr/bin/gcc" in view.files


def test_dpkg_install_of_a_known_package_file():
    assert "/usr/bin/curl" in provided(run("dpkg -i /tmp/curl_7.88.1-10_amd64.deb"))
    assert kinds(run("dpkg -i /tmp/google-chrome-stable_current_amd64.deb"), "unknown-provide")


def test_nodesource_nodejs_brings_npm():
    memory = RunMemory()
    effects = run("curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs", memory=memory)
    assert {"/usr/bin/node", "/usr/bin/npm", "/usr/bin/npx"} <= provided(effects)
    assert not kinds(effects, "unknown-provide")
    # Debian's own nodejs does not include npm
    assert "/usr/bin/npm" not in provided(run("apt-get install -y nodejs", memory=RunMemory()))


# -- Python ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, files, user, family, expected",
    [
        ("/opt/conda/bin/pip install kaggle", set(), "1000", "ubuntu", "/opt/conda/bin/kaggle"),
        ("pip3 install --no-cache-dir kaggle==1.6.17", {"/usr/bin/pip3"}, "root", "debian", "/usr/local/bin/kaggle"),
        ("pip install kaggle", {"/usr/local/bin/pip"}, "root", "debian", "/usr/local/bin/kaggle"),
        ("pip install --user kaggle", {"/usr/local/bin/pip"}, "root", "debian", "/root/.local/bin/kaggle"),
        ("pip install kaggle", {"/usr/local/bin/pip"}, "app", "debian", "/home/app/.local/bin/kaggle"),
        ("pip install kaggle", {"/usr/bin/pip"}, "root", "alpine", "/usr/bin/kaggle"),
        ("python3 -m pip install awscli", {"/usr/local/bin/python3"}, "root", "debian", "/usr/local/bin/aws"),
        ("python -m pip install --prefix /opt/tools httpie", {"/usr/local/bin/python"}, "root", "debian", "/opt/tools/bin/http"),
        ("/opt/venv/bin/pip install black", set(), "root", "debian", "/opt/venv/bin/black"),
    ],
)
def test_pip_scripts_directory(text, files, user, family, expected):
    assert expected in provided(run(text, View(files, user=user, family=family)))


def test_pip_unknown_package_and_requirements_are_unknown_in_that_directory():
    view = View({"/opt/conda/bin/pip"}, env={"PATH": "/opt/conda/bin:" + DEFAULT_PATH})
    effects = run("pip install -r requirements.txt my-private-lib", view)
    assert kinds(effects, "unknown-provide") == ["/opt/conda/bin", "/opt/conda/bin"]


def test_pip_home_from_env():
    view = View({"/opt/conda/bin/pip"}, env={"HOME": "/home/jovyan", "PATH": "/opt/conda/bin:" + DEFAULT_PATH}, user="1000")
    assert "/home/jovyan/.local/bin/jupyter-lab" in provided(run("pip install --user jupyterlab", view))


def test_venv_then_activate_then_pip():
    view = View({"/usr/bin/python3"})
    effects = run("python3 -m venv /opt/venv && . /opt/venv/bin/activate && pip install flask", view)
    assert {"/opt/venv/bin/python", "/opt/venv/bin/pip"} <= provided(effects)
    assert "/opt/venv/bin/flask" in provided(effects)
    assert kinds(effects, "path")[0].startswith("/opt/venv/bin:")


def test_get_pip_piped_into_python():
    memory = RunMemory()
    effects = run("curl -sS https://bootstrap.pypa.io/get-pip.py | python3", View({"/usr/local/bin/python3"}), memory)
    assert provided(effects) >= {"/usr/local/bin/pip", "/usr/local/bin/pip3"}


def test_uv_and_pipx_tools():
    view = View({"/usr/local/bin/python3"})
    assert "/usr/local/bin/ruff" in provided(run("uv pip install --system ruff", view))
    assert "/root/.local/bin/black" in provided(run("pipx install black", View()))
    assert "/root/.local/bin/ruff" in provided(run("uv tool install ruff", View()))


# -- conda -----------------------------------------------------------------------------


def test_conda_installs_into_the_resolved_prefix():
    view = View({"/opt/conda/bin/conda"}, env={"PATH": "/opt/conda/bin:" + DEFAULT_PATH})
    effects = run("conda install -y -c conda-forge nodejs git", view)
    assert {"/opt/conda/bin/node", "/opt/conda/bin/npm", "/opt/conda/bin/git"} <= provided(effects)
    node = next(e for e in effects if e.path == "/opt/conda/bin/node")
    assert node.package == "nodejs" and "conda install nodejs" in node.via


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mamba install --yes 'jupyterlab' 'notebook>=7'", "/opt/conda/bin/jupyter-lab"),
        ("conda install -p /opt/env python=3.11", "/opt/env/bin/python"),
        ("conda create -y -n py311 python=3.11", "/opt/conda/envs/py311/bin/python"),
        ("conda install -n base ipython", "/opt/conda/bin/ipython"),
    ],
)
def test_conda_prefixes(text, expected):
    view = View({"/opt/conda/bin/conda", "/opt/conda/bin/mamba"}, env={"PATH": "/opt/conda/bin:" + DEFAULT_PATH})
    assert expected in provided(run(text, view))


def test_micromamba_with_root_prefix_from_a_variable():
    effects = run(
        './micromamba install --root-prefix="${CONDA_DIR}" --prefix="${CONDA_DIR}" --yes "python=3.11" mamba jupyter_core',
        View(env={"CONDA_DIR": "/opt/conda"}, workdir="/tmp"),
    )
    found = provided(effects)
    assert {"/opt/conda/bin/python", "/opt/conda/bin/pip", "/opt/conda/bin/mamba", "/opt/conda/bin/conda", "/opt/conda/bin/jupyter"} <= found
    python = next(e for e in effects if e.path == "/opt/conda/bin/python")
    assert python.package == "python"  # the package that owns it, not a dependent
    assert len([e for e in effects if e.path == "/opt/conda/bin/python"]) == 1


def test_conda_dynamic_command_name():
    effects = run('"${CONDA_DIR}/bin/conda" install -y jq', View({"/opt/conda/bin/conda"}, env={"CONDA_DIR": "/opt/conda"}))
    assert "/opt/conda/bin/jq" in provided(effects)


def test_conda_env_file_is_unknown():
    view = View({"/opt/conda/bin/conda"}, env={"PATH": "/opt/conda/bin:" + DEFAULT_PATH})
    assert kinds(run("conda env update -n base -f environment.yml", view), "unknown-provide") == ["/opt/conda/bin"]


def test_conda_remove():
    view = View({"/opt/conda/bin/conda", "/opt/conda/bin/node"}, env={"PATH": "/opt/conda/bin:" + DEFAULT_PATH})
    assert kinds(run("conda remove -y nodejs", view), "remove")[0] == "/opt/conda/bin/node"


# -- node, ruby, rust, go ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, files, env, expected",
    [
        ("npm install -g yarn", {"/usr/local/bin/npm"}, {}, {"/usr/local/bin/yarn"}),
        ("npm i -g typescript@5 @angular/cli", {"/usr/bin/npm"}, {}, {"/usr/local/bin/tsc", "/usr/local/bin/ng"}),
        ("npm install --global pm2", {"/opt/conda/bin/npm"}, {"PATH": "/opt/conda/bin:" + DEFAULT_PATH}, {"/opt/conda/bin/pm2"}),
        ("npm install -g --prefix /opt/npm serve", {"/usr/local/bin/npm"}, {}, {"/opt/npm/bin/serve"}),
        ("yarn global add nodemon", set(), {}, {"/usr/local/bin/nodemon"}),
        ("corepack enable", {"/usr/local/bin/node"}, {}, {"/usr/local/bin/yarn", "/usr/local/bin/pnpm"}),
        ("gem install bundler -v 2.5.0", {"/usr/local/bin/gem"}, {"GEM_HOME": "/usr/local/bundle"}, {"/usr/local/bundle/bin/bundle"}),
        ("gem install rails", {"/usr/bin/gem"}, {}, {"/usr/local/bin/rails"}),
        ("cargo install ripgrep fd-find", set(), {}, {"/root/.cargo/bin/rg", "/root/.cargo/bin/fd"}),
        ("cargo install --root /usr/local just", set(), {}, {"/usr/local/bin/just"}),
        ("cargo install sccache", set(), {"CARGO_HOME": "/usr/local/cargo"}, {"/usr/local/cargo/bin/sccache"}),
        ("go install golang.org/x/tools/gopls@latest", set(), {"GOPATH": "/go"}, {"/go/bin/gopls"}),
        ("go install github.com/go-delve/delve/cmd/dlv@v1.22.0", set(), {"GOBIN": "/usr/local/bin"}, {"/usr/local/bin/dlv"}),
        ("go install github.com/x/y/v2@latest", set(), {}, {"/root/go/bin/y"}),
        ("go build -o /usr/local/bin/app ./cmd/app", set(), {}, {"/usr/local/bin/app"}),
    ],
)
def test_language_installers(text, files, env, expected):
    found = provided(run(text, View(files, env=env)))
    assert expected <= found, expected - found


def test_local_npm_install_puts_nothing_on_path():
    assert run("npm install && npm ci", View({"/usr/local/bin/npm"})) == []


def test_unknown_npm_package_is_unknown_in_the_prefix():
    effects = run("npm install -g some-private-cli", View({"/usr/local/bin/npm"}))
    assert kinds(effects, "unknown-provide") == ["/usr/local/bin"]


def test_nvm_install_exact_version_goes_on_path_for_the_run():
    view = View(env={"NVM_DIR": "/usr/local/nvm"})
    effects = run(". $NVM_DIR/nvm.sh && nvm install 20.11.0 && npm install -g yarn", view)
    assert "/usr/local/nvm/versions/node/v20.11.0/bin/node" in provided(effects)
    assert kinds(effects, "path")[0].startswith("/usr/local/nvm/versions/node/v20.11.0/bin:")
    assert "/usr/local/nvm/versions/node/v20.11.0/bin/yarn" in provided(effects)


def test_nvm_install_of_a_range_is_unknown():
    effects = run("nvm install --lts", View(env={"NVM_DIR": "/root/.nvm"}))
    assert kinds(effects, "unknown-provide") == ["/root/.nvm/versions/node"]


# -- installer scripts -----------------------------------------------------------------------


def test_downloaded_miniforge_run_with_prefix():
    memory = RunMemory()
    text = (
        'wget -O /tmp/miniforge.sh "https://github.com/conda-forge/miniforge/releases/latest/download/Miniforge3-$(uname)-$(uname -m).sh" && '
        "bash /tmp/miniforge.sh -b -p /opt/conda && rm /tmp/miniforge.sh"
    )
    effects = run(text, memory=memory)
    found = provided(effects)
    assert {"/opt/conda/bin/conda", "/opt/conda/bin/mamba", "/opt/conda/bin/python", "/opt/conda/bin/pip"} <= found
    conda = next(e for e in effects if e.path == "/opt/conda/bin/conda")
    assert conda.via == "Miniforge installer -b -p /opt/conda"
    kubectl = run("curl -fsSLo /usr/local/bin/kubectl https://dl.k8s.io/kubectl")[0]
    assert kubectl.via == "curl -o /usr/local/bin/kubectl"
    assert "/opt/conda/bin" in kinds(effects, "unknown-provide")


@pytest.mark.parametrize(
    "text, expected, absent",
    [
        ("bash Miniconda3-latest-Linux-x86_64.sh -b -p $CONDA_DIR", "/opt/miniconda/bin/conda", "/opt/miniconda/bin/mamba"),
        ("sh ./Mambaforge-Linux-x86_64.sh -bfp /opt/mamba", "/opt/mamba/bin/mamba", None),
        ("bash /tmp/Miniforge3-Linux-aarch64.sh -b", "/root/miniforge3/bin/conda", None),
        ("/bin/bash ~/Anaconda3-2024.02-1-Linux-x86_64.sh -b -p /opt/anaconda", "/opt/anaconda/bin/python", None),
    ],
)
def test_conda_installers_by_file_name(text, expected, absent):
    found = provided(run(text, View(env={"CONDA_DIR": "/opt/miniconda"})))
    assert expected in found
    if absent:
        assert absent not in found


def test_miniconda_downloaded_under_another_name():
    memory = RunMemory()
    run("curl -fsSL -o /tmp/installer.sh https://repo.anaconda.com/miniconda/Miniconda3-py311_24.1.2-0-Linux-x86_64.sh", memory=memory)
    assert "/opt/conda/bin/conda" in provided(run("bash /tmp/installer.sh -b -p /opt/conda", memory=memory))


@pytest.mark.parametrize(
    "text, env, expected",
    [
        ("curl https://sh.rustup.rs -sSf | sh -s -- -y", {}, {"/root/.cargo/bin/cargo", "/root/.cargo/bin/rustc", "/root/.cargo/bin/rustup"}),
        ("curl https://sh.rustup.rs -sSf | bash -s -- -y", {"CARGO_HOME": "/usr/local/cargo"}, {"/usr/local/cargo/bin/cargo"}),
        ("curl -LsSf https://astral.sh/uv/install.sh | sh", {}, {"/root/.local/bin/uv", "/root/.local/bin/uvx"}),
        ("wget -qO- https://astral.sh/uv/install.sh | env UV_INSTALL_DIR=/usr/local/bin sh", {}, {"/usr/local/bin/uv"}),
        ("curl -sSL https://install.python-poetry.org | python3 -", {"POETRY_HOME": "/opt/poetry"}, {"/opt/poetry/bin/poetry"}),
        ("curl -fsSL https://bun.sh/install | bash", {}, {"/root/.bun/bin/bun"}),
        ("curl -fsSL https://get.docker.com | sh", {}, {"/usr/bin/docker"}),
    ],
)
def test_piped_installers(text, env, expected):
    found = provided(run(text, View({"/usr/bin/python3"}, env=env), RunMemory()))
    assert expected <= found, expected - found


def test_unknown_piped_script_may_install_anything():
    effects = run("curl -fsSL https://example.com/install.sh | bash", memory=RunMemory())
    assert [(e.kind, e.path) for e in effects] == [("unknown-provide", None)]


def test_piped_script_without_memory_is_unknown():
    effects = run("curl https://sh.rustup.rs -sSf | sh -s -- -y")
    assert [(e.kind, e.path) for e in effects] == [("unknown-provide", None)]


def test_rustup_then_cargo_env_then_cargo_install():
    effects = run("curl https://sh.rustup.rs -sSf | sh -s -- -y && . $HOME/.cargo/env && cargo install just", memory=RunMemory())
    assert kinds(effects, "path")[0].startswith("/root/.cargo/bin:")
    assert "/root/.cargo/bin/just" in provided(effects)


def test_script_strings_and_heredocs_are_judged_by_their_own_commands():
    effects = run("bash -c 'apt-get install -y jq'")
    assert "/usr/bin/jq" in provided(effects)
    effects = run("bash -s <<EOF\napt-get install -y jq\nEOF")
    assert provided(effects) == {"/usr/bin/jq", "/bin/jq"}


def test_a_script_string_fetched_at_build_time_is_unknown():
    effects = run('sh -c "$(curl -fsSL https://example.com/install.sh)"')
    assert [(e.kind, e.path) for e in effects] == [("unknown-provide", None)]
    assert run("bash -c 'for f in $(ls /etc); do echo $f; done'") == []


def test_wrappers_do_not_count_twice():
    effects = run("sudo apt-get install -y jq")
    assert len([e for e in effects if e.path == "/usr/bin/jq"]) == 1


def test_running_an_unknown_local_script():
    assert [(e.kind, e.path) for e in run("./install-deps.sh")] == [("unknown-provide", None)]
    assert [(e.kind, e.path) for e in run("sh /tmp/setup.sh --yes")] == [("unknown-provide", None)]


def test_aws_cli_installer():
    assert {"/usr/local/bin/aws", "/usr/local/bin/aws_completer"} <= provided(run("./aws/install"))
    assert "/opt/bin/aws" in provided(run("sudo ./aws/install -i /opt/aws-cli -b /opt/bin"))


# -- files ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("curl -fsSL -o /usr/local/bin/kubectl https://dl.k8s.io/kubectl", {"/usr/local/bin/kubectl"}),
        ("curl -fsSLo /usr/local/bin/jq https://example.com/jq", {"/usr/local/bin/jq"}),
        ("wget -O /usr/local/bin/yq https://example.com/yq", {"/usr/local/bin/yq"}),
        ("wget -qO /usr/local/bin/yq https://example.com/yq", {"/usr/local/bin/yq"}),
        ("cd /usr/local/bin && curl -fsSLO https://example.com/tool", {"/usr/local/bin/tool"}),
        ("install -m 755 /tmp/helm /usr/local/bin/helm", {"/usr/local/bin/helm"}),
        ("install -m 0755 linux-amd64/helm /usr/local/bin/", {"/usr/local/bin/helm"}),
        ("install -t /usr/local/bin /tmp/a /tmp/b", {"/usr/local/bin/a", "/usr/local/bin/b"}),
        ("cp /tmp/tool /usr/local/bin/tool", {"/usr/local/bin/tool"}),
        ("cp /tmp/x/bin/tool /usr/local/bin", {"/usr/local/bin/tool"}),
        ("mv /tmp/linux-amd64/helm /usr/local/bin/helm", {"/usr/local/bin/helm"}),
        ("ln -s /opt/conda/bin/conda /usr/local/bin/conda", {"/usr/local/bin/conda"}),
        ("ln -sf /opt/node/bin/node /usr/local/bin/", {"/usr/local/bin/node"}),
        ("chmod +x /opt/app/run.sh", {"/opt/app/run.sh"}),
        ("chmod 755 /entrypoint.sh", {"/entrypoint.sh"}),
        ("chmod a+rx /usr/local/bin/fix-permissions", {"/usr/local/bin/fix-permissions"}),
        ("update-alternatives --install /usr/bin/nano nano /bin/nano-tiny 10", {"/usr/bin/nano", "/bin/nano"}),
        ("tar -xzf /tmp/helm.tgz -C /usr/local/bin --strip-components=1 linux-amd64/helm", {"/usr/local/bin/helm"}),
        ("tar xzf /tmp/k9s.tgz -C /usr/local/bin k9s", {"/usr/local/bin/k9s"}),
        ("tar -xJf node-v20.11.0-linux-x64.tar.xz -C /usr/local --strip-components=1", {"/usr/local/bin/node", "/usr/local/bin/npm"}),
        ("tar -C /usr/local -xzf go1.22.5.linux-amd64.tar.gz", {"/usr/local/go/bin/go"}),
        ("gcc -O2 -o /usr/local/bin/hello hello.c", {"/usr/local/bin/hello"}),
        ("export PATH=/opt/x/bin:$PATH && gunzip /opt/x/bin/tool.gz", {"/opt/x/bin/tool"}),
    ],
)
def test_file_operations_provide(text, expected):
    found = provided(run(text, View(family="debian"), RunMemory()))
    assert expected <= found, expected - found


def test_mv_removes_the_source():
    effects = run("mv /tmp/kubectl /usr/local/bin/kubectl")
    assert kinds(effects, "remove") == ["/tmp/kubectl"]


def test_chmod_without_execute_bits_provides_nothing():
    assert run("chmod 644 /etc/app.conf") == []
    assert run("chmod -R g+w /opt/conda") == []


@pytest.mark.parametrize(
    "text, removed",
    [
        ("rm -f /usr/local/bin/tool", ["/usr/local/bin/tool"]),
        ("rm -rf /opt/conda", ["/opt/conda"]),
        ("rm -rf /var/lib/apt/lists/*", ["/var/lib/apt/lists/"]),
        ("cd /tmp && rm -rf build", ["/tmp/build"]),
        ("rm -f /usr/local/bin/*.sh", []),
    ],
)
def test_rm(text, removed):
    assert kinds(run(text, View(family="alpine"), RunMemory()), "remove") == removed


def test_rm_rf_a_directory_removes_everything_under_it():
    view = View({"/opt/conda/bin/conda", "/opt/conda/bin/python", "/usr/bin/ls"}, family="alpine")
    run("rm -rf /opt/conda", view)
    assert view.files == {"/usr/bin/ls"}


@pytest.mark.parametrize(
    "text, directory",
    [
        ("tar -xzf /tmp/tool.tgz -C /usr/local/bin", "/usr/local/bin"),
        ("curl -fsSL https://example.com/x.tgz | tar -xz -C /opt/x", "/opt/x"),
        ("unzip -q /tmp/tools.zip -d /usr/local/bin", "/usr/local/bin"),
        ("cp -r /tmp/dist/bin/* /usr/local/bin/", "/usr/local/bin"),
        ("cp -a /tmp/app /opt/app", "/opt/app"),
        ("ln -s /opt/tool/bin/* /usr/local/bin/", "/usr/local/bin"),
        ("git clone --depth 1 https://github.com/x/tools.git /opt/tools", "/opt/tools"),
        ("make install", "/usr/local/bin"),
        ("make PREFIX=/opt/app install", "/opt/app/bin"),
        ("./configure --prefix=/opt/py && make && make install", "/opt/py/bin"),
        ("bundle install", "/usr/local/bin"),
    ],
)
def test_unknown_contents(text, directory):
    effects = run(text, View(family="debian"), RunMemory())
    assert directory in kinds(effects, "unknown-provide"), effects


@pytest.mark.parametrize(
    "text, env, path",
    [
        ("export PATH=/opt/conda/bin:$PATH", {}, "/opt/conda/bin:" + DEFAULT_PATH),
        ('export PATH="$HOME/.local/bin:$PATH"', {}, "/root/.local/bin:" + DEFAULT_PATH),
        ("export PATH=$PATH:$GOPATH/bin", {"GOPATH": "/go"}, DEFAULT_PATH + ":/go/bin"),
        (". /opt/venv/bin/activate", {}, "/opt/venv/bin:" + DEFAULT_PATH),
        ("source $HOME/.cargo/env", {}, "/root/.cargo/bin:" + DEFAULT_PATH),
        (". /root/.local/bin/env", {}, "/root/.local/bin:" + DEFAULT_PATH),
    ],
)
def test_path_changes(text, env, path):
    effects = run(text, View(env=env))
    assert [(e.kind, e.path) for e in effects] == [("path", path)]


def test_exported_variables_serve_later_commands_of_the_run():
    memory = RunMemory()
    effects = run("export GOBIN=/usr/local/bin && go install github.com/x/tool@latest", memory=memory)
    assert "/usr/local/bin/tool" in provided(effects)
    memory.begin_run()
    assert memory.env == {} and memory.cwd is None


def test_cd_sets_relative_paths():
    memory = RunMemory()
    effects = run("cd /opt && curl -fsSL -o bin/tool https://example.com/tool && chmod +x bin/tool", memory=memory)
    assert "/opt/bin/tool" in provided(effects)


def test_useradd_and_friends_change_no_executable():
    assert run("useradd -m -u 1000 app && groupadd docker && adduser --disabled-password bob") == []


def test_misreadings_never_raise():
    for text in ("apt-get", "pip", "conda install -p", "tar -x -C", "ln", "cp a", "curl -o", "nvm install",
                 "rm", "export PATH", "wget -O", "install -m", "go install", "$(echo apt-get) install x"):
        for eff in run(text, memory=RunMemory()):
            assert eff.kind in ("provide", "remove", "path", "unknown-provide")


def test_memory_copy_is_independent():
    memory = RunMemory()
    memory.apk_virtual[".deps"] = ("gcc",)
    other = memory.copy()
    other.apk_virtual[".deps"] = ()
    assert memory.apk_virtual[".deps"] == ("gcc",)


def test_memory_from_the_view():
    view = View()
    view.memory = RunMemory()
    effects = run("curl -LsSf https://astral.sh/uv/install.sh | sh", view)
    assert "/root/.local/bin/uv" in provided(effects)


def test_home_of():
    assert home_of("root") == "/root"
    assert home_of("0:0") == "/root"
    assert home_of("jovyan") == "/home/jovyan"
    assert home_of("1000") is None
    assert home_of("1000", {"HOME": "/home/jovyan"}) == "/home/jovyan"


# -- privileges and package managers -----------------------------------------------------------


def one(text):
    cmds = [c for c in commands(make_script(text), "sh") if not c.wrappers]
    return cmds[0]


def unwrapped(text):
    return [c for c in commands(make_script(text), "sh") if c.wrappers][-1]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("apt-get update", True),
        ("apt-get install -y curl", True),
        ("apt-get purge -y curl", True),
        ("apt-cache policy curl", False),
        ("apt-get --version", False),
        ("apk add --no-cache curl", True),
        ("apk info", False),
        ("yum install -y git", True),
        ("dnf makecache", True),
        ("microdnf install git", True),
        ("zypper -n in git", True),
        ("dpkg -i x.deb", True),
        ("dpkg -l", False),
        ("dpkg --print-architecture", False),
        ("useradd -m app", True),
        ("groupadd docker", True),
        ("chown app:app /srv", True),
        ("update-ca-certificates", True),
        ("locale-gen en_US.UTF-8", True),
        ("pip install --user kaggle", False),
        ("pip install kaggle", False),
        ("conda install -y numpy", False),
        ("cp tool /usr/local/bin/tool", True),
        ("ln -s /opt/x /usr/local/bin/x", True),
        ("mkdir -p /usr/share/app", True),
        ("mkdir -p /home/jovyan/work", False),
        ("mkdir -p /opt/app", False),
        ("cp x /tmp/y", False),
        ("sed -i 's/a/b/' /etc/ssh/sshd_config", True),
        ("sed -i 's/a/b/' config.txt", False),
        ("echo 'deb x y' > /etc/apt/sources.list.d/x.list", True),
        ("echo hi > /tmp/x", False),
        ("tar -xzf x.tgz -C /usr/local", True),
        ("tar -xzf x.tgz -C /tmp", False),
        ("make install", True),
        ("make PREFIX=$HOME/.local install", False),
        ("update-alternatives --install /usr/bin/nano nano /bin/nano-tiny 10", True),
        ("wget https://x/y", False),
    ],
)
def test_needs_root(text, expected):
    assert needs_root(one(text)) is expected


def test_needs_root_under_sudo_is_false():
    assert needs_root(unwrapped("sudo apt-get install -y curl")) is False
    assert needs_root(unwrapped("gosu app apt-get install -y curl")) is True


def test_needs_root_for_global_npm_depends_on_the_prefix():
    assert needs_root(one("npm install -g yarn"), View({"/usr/local/bin/npm"})) is True
    assert needs_root(one("npm install -g yarn"), View({"/opt/conda/bin/npm"}, env={"PATH": "/opt/conda/bin:" + DEFAULT_PATH})) is False
    assert needs_root(one("npm install -g yarn")) is False


@pytest.mark.parametrize(
    "text, manager, installer",
    [
        ("apt-get install -y curl", "apt", "apt"),
        ("apt -y install curl", "apt", "apt"),
        ("apt-get update", "apt", None),
        ("apt-get remove curl", "apt", None),
        ("apk add curl", "apk", "apk"),
        ("apk del curl", "apk", None),
        ("yum install -y git", "yum", "yum"),
        ("dnf install -y git", "dnf", "dnf"),
        ("microdnf install git", "microdnf", "microdnf"),
        ("dnf groupinstall 'Development Tools'", "dnf", "dnf"),
        ("dnf makecache", "dnf", None),
        ("zypper --non-interactive install git", "zypper", "zypper"),
        ("zypper refresh", "zypper", None),
        ("apt-get --version", None, None),
        ("pip install x", None, None),
        ("dpkg -i x.deb", None, None),
    ],
)
def test_package_manager_of(text, manager, installer):
    assert package_manager_of(one(text)) == manager
    assert package_manager_of(one(text), install_only=True) == installer


def test_effect_fields():
    eff = run("apt-get install -y jq")[0]
    assert eff == Effect("provide", "/usr/bin/jq", "jq", "apt-get install jq", "jq")
    assert posixpath.basename(eff.path) == eff.command
