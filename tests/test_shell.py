import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import shell
from analyzer.model import Position, Script
from analyzer.shell import basename, commands, exec_form_commands, is_posix_shell
from conftest import script_at


@pytest.fixture(autouse=True)
def strict(monkeypatch):
    # surface internal errors instead of swallowing them
    monkeypatch.setattr(shell, "_STRICT", True)


def make_script(text: str, line: int = 1, column: int = 1) -> Script:
    return script_at(text, line, column)


def run(text, shell_name="sh", line=1, column=1):
    return commands(make_script(text, line, column), shell_name)


def names(cmds):
    return [c.name for c in cmds]


def one(cmds, name, **match):
    found = [c for c in cmds if c.name == name and all(getattr(c, k) == v for k, v in match.items())]
    assert len(found) == 1, (name, match, [(c.name, c.wrappers) for c in cmds])
    return found[0]


def at(cmd):
    return (cmd.position.line, cmd.position.column)


# -- lists, positions, words ---------------------------------------------------


def test_lists_and_positions():
    cmds = run("apt-get update && apt-get install -y curl || true; rm -rf /var/lib/apt/lists/*\nls -l")
    assert names(cmds) == ["apt-get", "apt-get", "true", "rm", "ls"]
    assert cmds[1].argv == ("apt-get", "install", "-y", "curl")
    assert at(cmds[0]) == (1, 1)
    assert cmds[0].position == Position(1, 1, 1, 8)
    assert at(cmds[1]) == (1, 19)
    assert cmds[1].arg_positions[3] == Position(1, 38, 1, 42)
    assert at(cmds[3]) == (1, 52)
    assert at(cmds[4]) == (2, 1)
    assert all(c.shell == "sh" for c in cmds)


def test_multiline_script_with_offset_start():
    text = "set -eux; \\\n    apt-get update; \\\n    cd /tmp && \\\n      pip install foo"
    # a Script as a RUN on line 10 whose text starts after "RUN " (column 5)
    cmds = run(text, line=10, column=5)
    assert names(cmds) == ["set", "apt-get", "cd", "pip"]
    assert at(cmds[0]) == (10, 5)
    assert at(cmds[1]) == (11, 5)
    assert at(cmds[2]) == (12, 5)
    pip = cmds[3]
    assert at(pip) == (13, 7)
    assert pip.position == Position(13, 7, 13, 10)
    assert pip.argv == ("pip", "install", "foo")
    assert pip.arg_positions[2] == Position(13, 19, 13, 22)


def test_joined_logical_line_segments():
    # the shape Instruction.logical has: continuation lines joined, one segment each
    text = "apt-get update &&     pip install x"
    script = Script(text, ((0, 3, 5), (18, 4, 5)))
    cmds = commands(script)
    assert at(cmds[0]) == (3, 5)
    assert at(cmds[1]) == (4, 9)  # offset 18 is the first of the blanks before pip


def test_quote_removal():
    cmd = run("""kaggle 'kaggle' "a b" a\\ b 'x'"y"z $'a\\tb' "q\\"r" '' ""  """)[0]
    assert cmd.argv == ("kaggle", "kaggle", "a b", "a b", "xyz", "a\tb", 'q"r', "", "")
    assert not cmd.dynamic
    assert cmd.arg_positions[2] == Position(1, 17, 1, 22)


def test_quoted_command_name():
    cmd = run("'kaggle' datasets download")[0]
    assert cmd.name == "kaggle"
    assert cmd.position == Position(1, 1, 1, 9)
    assert run("\\sudo ls")[0].name == "sudo"


def test_dynamic_words_keep_source_text():
    cmd = run('echo $X ${Y}z "$HOME/x" $(date) `id` plain')[0]
    assert cmd.argv == ("echo", "$X", "${Y}z", '"$HOME/x"', "$(date)", "`id`", "plain")
    assert not cmd.dynamic


def test_dynamic_command_names():
    cmds = run('$CONDA_DIR/bin/conda install -y x && "$PY" -m pip && ${P}/pip install && $(which python) x')
    conda = cmds[0]
    assert conda.name == "$CONDA_DIR/bin/conda"
    assert conda.dynamic
    assert conda.extras["static_basename"] == "conda"
    assert conda.argv == ("$CONDA_DIR/bin/conda", "install", "-y", "x")
    py = one(cmds, '"$PY"')
    assert py.dynamic and "static_basename" not in py.extras
    assert one(cmds, "${P}/pip").extras["static_basename"] == "pip"
    sub = one(cmds, "$(which python)")
    assert sub.dynamic
    assert one(cmds, "which").argv == ("which", "python")


def test_paths_and_basename():
    cmd = run("/usr/bin/apt-get install x")[0]
    assert cmd.name == "/usr/bin/apt-get"
    assert basename(cmd.name) == "apt-get"
    assert basename("pip") == "pip"
    assert basename("./configure") == "configure"
    assert basename("") == ""


def test_non_ascii_columns_are_characters():
    cmds = run('echo "héllo wörld ✓ 😀" && apt-get install -y café')
    apt = one(cmds, "apt-get")
    # 'echo "héllo wörld ✓ 😀" && ' is 26 characters (and 34 UTF-8 bytes)
    assert at(apt) == (1, 27)
    assert apt.argv[-1] == "café"
    assert apt.arg_positions[-1] == Position(1, 46, 1, 50)
    inner = run("sh -c 'echo ü; ls'")
    assert at(one(inner, "ls")) == (1, 16)


# -- structure ------------------------------------------------------------------


def test_pipelines():
    cmds = run("curl -s https://x | tar xz && echo done; (a; b) | c")
    curl, tar, echo = one(cmds, "curl"), one(cmds, "tar"), one(cmds, "echo")
    assert curl.in_pipeline and tar.in_pipeline and not echo.in_pipeline
    assert curl.extras["pipeline_id"] == tar.extras["pipeline_id"]
    assert (curl.extras["pipeline_index"], tar.extras["pipeline_index"]) == (0, 1)
    a, b, c = one(cmds, "a"), one(cmds, "b"), one(cmds, "c")
    assert a.in_pipeline and b.in_pipeline and c.in_pipeline
    assert a.extras["pipeline_id"] != curl.extras["pipeline_id"]
    assert c.extras["pipeline_index"] == 1


def test_substitution_inside_pipeline_is_not_in_it():
    cmds = run("echo $(id -u) | grep 0")
    assert one(cmds, "echo").in_pipeline
    assert not one(cmds, "id").in_pipeline


def test_subshells_groups_and_substitutions():
    cmds = run("( cd /x && make ) && { echo a; echo b; } && v=$(git rev-parse HEAD) && echo `date` $(( 1 + $(nproc) )) && diff <(sort a) <(sort b)")
    assert names(cmds) == ["cd", "make", "echo", "echo", "git", "echo", "date", "nproc", "diff", "sort", "sort"]
    git = one(cmds, "git")
    assert at(git) == (1, 49)
    assert one(cmds, "date").position == Position(1, 78, 1, 82)


def test_control_flow():
    text = (
        "if [ -f a ]; then b; elif c; then d; else e; fi\n"
        "for i in $(seq 3); do x $i; done\n"
        "while read l; do y; done < f\n"
        "until u; do v; done\n"
        "case $x in a) z;; *) w;; esac\n"
        "! grep -q x f\n"
        "time make\n"
    )
    cmds = run(text, "bash")
    assert names(cmds) == ["[", "b", "c", "d", "e", "seq", "x", "read", "y", "u", "v", "z", "w", "grep", "time", "make"]
    test = cmds[0]
    assert test.argv == ("[", "-f", "a", "]") and test.builtin
    assert at(one(cmds, "z")) == (5, 15)
    assert one(cmds, "grep").argv == ("grep", "-q", "x", "f")
    make = one(cmds, "make")
    assert make.wrappers == ("time",)
    assert one(cmds, "time").builtin  # a bash keyword


def test_double_bracket_test():
    cmds = run('[[ -n "$(ls)" && $x == y ]] && echo ok', "bash")
    t = cmds[0]
    assert t.name == "[[" and t.builtin
    assert t.argv[0] == "[[" and t.argv[-1] == "]]"
    assert "ls" in names(cmds)


def test_functions():
    text = "f() { apt-get update; }\nfunction g {\n  echo hi\n}\nf; g x\nh\nh() { :; }"
    cmds = run(text, "bash")
    assert names(cmds) == ["apt-get", "echo", "f", "g", "h", ":"]
    assert not one(cmds, "apt-get").function
    f, g = one(cmds, "f"), one(cmds, "g")
    assert f.function and g.function and not f.builtin
    assert at(g) == (5, 4)
    assert g.argv == ("g", "x")
    assert not one(cmds, "h").function  # called before it is defined
    assert at(one(cmds, "echo")) == (3, 3)


def test_function_called_from_another_function():
    cmds = run("a() { b; }\nb() { ls; }\na")
    assert one(cmds, "b").function
    assert one(cmds, "a").function


def test_assignments():
    cmds = run("FOO=1 BAR='x y' make install\nX=1\nY=$(id -u)\nA=1 B=2\nls")
    assert names(cmds) == ["make", "id", "ls"]
    assert one(cmds, "make").argv == ("make", "install")
    assert at(one(cmds, "make")) == (1, 17)
    assert at(one(cmds, "ls")) == (5, 1)


def test_redirections_are_not_arguments():
    text = "apt-get update > /dev/null 2>&1 && echo hi >&2 && cmd >out arg <in && wget -qO- u 2>/dev/null | sh"
    cmds = run(text)
    apt = one(cmds, "apt-get")
    assert apt.argv == ("apt-get", "update")
    assert apt.extras["redirects"] == ("> /dev/null", "2>&1")
    assert one(cmds, "echo").argv == ("echo", "hi")
    cmd = one(cmds, "cmd")
    assert cmd.argv == ("cmd", "arg")
    column = text.index(" arg ") + 2
    assert cmd.arg_positions[1] == Position(1, column, 1, column + 3)
    assert one(cmds, "wget").argv == ("wget", "-qO-", "u")
    assert one(cmds, "sh").in_pipeline


# -- builtins -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["cd", "export", "set", "echo", "printf", "test", "true", "false", "read", "source", ".", "eval",
     "exec", "exit", "return", "shift", "trap", "umask", "unset", "wait", "command", "type", "hash",
     "alias", "local", "declare", "ulimit", "getopts", "pwd", "break", "continue", ":", "let",
     "readonly", "shopt", "pushd", "popd", "dirs", "times", "kill"],
)
def test_builtins(name):
    cmd = run(f"{name} x")[0]
    assert cmd.name == name
    assert cmd.builtin


def test_not_builtins():
    cmds = run("apt-get x && /bin/echo hi && sudo echo hi && sh -c 'echo hi'")
    assert not one(cmds, "apt-get").builtin
    assert not one(cmds, "/bin/echo").builtin
    assert not one(cmds, "echo", wrappers=("sudo",)).builtin
    assert one(cmds, "echo", wrappers=("sh -c",)).builtin
    assert one(cmds, "echo", wrappers=("sh -c",)).shell == "sh"


def test_declarations():
    cmds = run("export PATH=/x:$PATH && local a=$(b) && declare -a arr && unset X Y", "bash")
    assert one(cmds, "export").argv == ("export", "PATH=/x:$PATH")
    assert one(cmds, "local").builtin
    assert one(cmds, "declare").argv == ("declare", "-a", "arr")
    assert one(cmds, "unset").argv == ("unset", "X", "Y")
    assert "b" in names(cmds)


# -- wrappers -------------------------------------------------------------------


def test_sudo():
    cmds = run("sudo -u app -H --preserve-env=PATH -g grp DEBIAN_FRONTEND=noninteractive apt-get install -y x")
    sudo = cmds[0]
    assert sudo.name == "sudo" and sudo.wrappers == ()
    apt = one(cmds, "apt-get")
    assert apt.wrappers == ("sudo",)
    assert apt.argv == ("apt-get", "install", "-y", "x")
    assert at(apt) == (1, 74)
    assert one(run("sudo -- rm x"), "rm").wrappers == ("sudo",)
    assert names(run("sudo -uroot -E make")) == ["sudo", "make"]
    assert names(run("sudo -l")) == ["sudo"]
    assert names(run("sudo -e /etc/hosts")) == ["sudo"]


def test_env():
    cmds = run("env -i -u HOME PATH=/bin A='b c' /usr/bin/python3 -V")
    py = one(cmds, "/usr/bin/python3")
    assert py.wrappers == ("env",) and py.argv == ("/usr/bin/python3", "-V")
    assert names(run("env")) == ["env"]
    assert names(run("env -S 'python3 -u' x"))[:2] == ["env", "python3"]


def test_xargs():
    cmds = run("find . -name '*.pyc' -print0 | xargs -0 -I {} -n 1 -P4 rm -f {}")
    rm = one(cmds, "rm")
    assert rm.wrappers == ("xargs",) and rm.argv == ("rm", "-f", "{}")
    assert rm.in_pipeline
    assert names(run("xargs -a list.txt -d '\\n' apt-get install -y"))[1] == "apt-get"
    assert names(run("echo x | xargs")) == ["echo", "xargs"]


@pytest.mark.parametrize(
    "text,wrapped,chain",
    [
        ("exec nginx -g 'daemon off;'", "nginx", ("exec",)),
        ("exec -a name nginx", "nginx", ("exec",)),
        ("nohup server &", "server", ("nohup",)),
        ("time -p make", "make", ("time",)),
        ("command -p ls", "ls", ("command",)),
        ("nice -n 10 make", "make", ("nice",)),
        ("nice make", "make", ("nice",)),
        ("timeout 10 curl x", "curl", ("timeout",)),
        ("timeout -s KILL --kill-after=5 1m curl x", "curl", ("timeout",)),
        ("stdbuf -oL -e0 python x", "python", ("stdbuf",)),
        ("gosu app:app node server.js", "node", ("gosu",)),
        ("su-exec app node server.js", "node", ("su-exec",)),
        ("tini -- node server.js", "node", ("tini",)),
        ("tini -s -e 143 node", "node", ("tini",)),
        ("runuser -u app -- npm ci", "npm", ("runuser",)),
        ("sudo -u app env HOME=/h nice -n 5 pip install x", "pip", ("sudo", "env", "nice")),
    ],
)
def test_wrappers(text, wrapped, chain):
    cmds = run(text)
    inner = one(cmds, wrapped)
    assert inner.wrappers == chain
    assert not inner.builtin
    assert cmds[0].name == text.split()[0]
    assert cmds[0].wrappers == ()
    column = text.index(" " + wrapped) + 2
    assert at(inner) == (1, column)


def test_command_lookup_is_not_an_invocation():
    assert names(run("command -v curl")) == ["command"]
    assert names(run("command -V curl")) == ["command"]


def test_chroot_is_not_unwrapped():
    assert names(run("chroot /mnt apt-get update")) == ["chroot"]


def test_sh_c():
    cmds = run("sh -c 'apt-get install -y curl'")
    assert names(cmds) == ["sh", "apt-get"]
    apt = cmds[1]
    assert apt.wrappers == ("sh -c",)
    assert apt.argv == ("apt-get", "install", "-y", "curl")
    assert apt.position == Position(1, 8, 1, 15)
    assert apt.arg_positions[3] == Position(1, 27, 1, 31)
    assert apt.shell == "sh"


@pytest.mark.parametrize(
    "prefix,options",
    [
        ("bash -c", ()),
        ("bash -e -c", ("-e",)),
        ("bash -eux -c", ("-eux",)),
        ("bash -o pipefail -c", ("-o", "pipefail")),
        ("bash -euxo pipefail -c", ("-euxo", "pipefail")),
        ("bash -ec", ("-e",)),
        ("/bin/bash --login -c", ("--login",)),
        ("dash -c", ()),
        ("ash -c", ()),
        ("zsh -c", ()),
    ],
)
def test_shell_c_variants(prefix, options):
    text = f'{prefix} "curl -fsSL x | tar -xz"'
    cmds = run(text)
    curl = one(cmds, "curl")
    assert at(curl) == (1, len(prefix) + 3)
    assert curl.in_pipeline and one(cmds, "tar").in_pipeline
    shell_name = basename(prefix.split()[0])
    assert curl.wrappers == (f"{shell_name} -c",)
    assert curl.shell == shell_name
    assert curl.extras.get("shell_options", ()) == options


def test_sh_c_double_quotes_with_escapes():
    text = 'bash -c "echo \\"a b\\" \\$HOME && apt-get install x"'
    cmds = run(text)
    echo = one(cmds, "echo")
    assert echo.argv == ("echo", "a b", "$HOME")
    apt = one(cmds, "apt-get")
    assert at(apt) == (1, text.index("apt-get") + 1)
    assert apt.arg_positions[2] == Position(1, text.index(" x") + 2, 1, text.index(" x") + 3)


def test_sh_c_script_operands_and_dynamic_script():
    cmds = run("sh -c 'echo $0 $1' name arg")
    assert names(cmds) == ["sh", "echo"]
    # a dynamic script string keeps its static shape: the variables are only words in it
    cmds = run('sh -c "$CMD"')
    assert names(cmds) == ["sh", "$CMD"] and cmds[1].dynamic
    cmds = run("bash -c \"apt-get install $PKGS && echo $(whoami)\"")
    assert names(cmds) == ["bash", "apt-get", "echo", "whoami"]
    assert one(cmds, "apt-get").argv == ("apt-get", "install", "$PKGS")
    assert at(one(cmds, "apt-get")) == (1, 10)
    assert names(run("bash script.sh arg")) == ["bash"]


def test_nested_shells():
    text = """bash -c "sh -c 'apt-get update'" """
    cmds = run(text)
    assert names(cmds) == ["bash", "sh", "apt-get"]
    sh, apt = cmds[1], cmds[2]
    assert sh.wrappers == ("bash -c",) and at(sh) == (1, 10)
    assert apt.wrappers == ("bash -c", "sh -c")
    assert at(apt) == (1, 17)
    assert apt.shell == "sh"


def test_sudo_sh_c_chain():
    cmds = run("sudo -u app sh -c 'cd /app && npm ci'")
    npm = one(cmds, "npm")
    assert npm.wrappers == ("sudo", "sh -c")
    assert at(npm) == (1, 31)
    assert one(cmds, "cd").builtin


def test_su_c():
    cmds = run("su -c 'apt-get update' root && su - app -c \"npm ci\" && su app -s /bin/bash -c 'ls'")
    apt = one(cmds, "apt-get")
    assert apt.wrappers == ("su -c",) and at(apt) == (1, 8)
    npm = one(cmds, "npm")
    assert npm.wrappers == ("su -c",) and at(npm) == (1, 45)
    assert npm.shell == "sh"
    ls = one(cmds, "ls")
    assert ls.shell == "bash"
    assert names(run("su app")) == ["su"]


def test_runuser_with_script():
    cmds = run("runuser -l app -c 'make install'")
    assert one(cmds, "make").wrappers == ("runuser -c",)


def test_eval_and_trap():
    cmds = run("eval 'apt-get update' && trap 'rm -f /tmp/x' EXIT && trap - EXIT")
    apt = one(cmds, "apt-get")
    assert apt.wrappers == ("eval",) and at(apt) == (1, 7)
    rm = one(cmds, "rm")
    assert rm.wrappers == ("trap",) and at(rm) == (1, 32)
    assert names(cmds).count("trap") == 2


# -- heredocs -------------------------------------------------------------------


def test_heredoc_fed_to_bash():
    text = "bash -e <<'EOF'\nset -x\n  apt-get install -y curl\nEOF\necho done"
    cmds = run(text)
    assert names(cmds) == ["bash", "set", "apt-get", "echo"]
    apt = one(cmds, "apt-get")
    assert apt.wrappers == ("bash <<",)
    assert at(apt) == (3, 3)
    assert apt.shell == "bash"
    assert apt.extras["shell_options"] == ("-e",)
    assert one(cmds, "echo").wrappers == ()


def test_heredoc_variants():
    text = "sudo sh <<-EOF && echo ok\n\tapk add x\n\tEOF\nbash -s -- arg <<EOF\nls\nEOF"
    cmds = run(text)
    apk = one(cmds, "apk")
    assert apk.wrappers == ("sudo", "sh <<") and at(apk) == (2, 2)
    assert one(cmds, "ls").wrappers == ("bash <<",)
    assert not one(cmds, "echo").wrappers


def test_heredoc_data_is_not_parsed():
    text = "cat <<EOF > /etc/apt/sources.list\ndeb http://x stable main\nrm -rf /\nEOF\npython3 <<EOF\nimport os\nEOF\nbash script.sh <<EOF\nrm x\nEOF"
    cmds = run(text)
    assert names(cmds) == ["cat", "python3", "bash"]
    assert one(cmds, "cat").argv == ("cat",)


def test_heredoc_substitutions_run_in_outer_shell():
    text = "cat <<EOF > /f\nuser=$(whoami)\nEOF\ncat <<'EOF' > /g\n$(not_run)\nEOF"
    assert names(run(text)) == ["cat", "whoami", "cat"]


def test_heredoc_followed_by_more_commands():
    text = "cat <<EOF >/f; echo y\nbody\nEOF\nsh <<EOF 2>&1 | tee log\nls\nEOF"
    cmds = run(text)
    assert names(cmds) == ["cat", "echo", "sh", "tee", "ls"]
    assert at(one(cmds, "echo")) == (1, 16)
    sh, tee = one(cmds, "sh"), one(cmds, "tee")
    assert sh.in_pipeline and tee.in_pipeline
    assert sh.extras["pipeline_id"] == tee.extras["pipeline_id"]
    assert at(one(cmds, "ls")) == (5, 1)


def test_herestring_fed_to_shell():
    cmds = run('bash <<< "apt-get update"')
    apt = one(cmds, "apt-get")
    assert apt.wrappers == ("bash <<<",) and at(apt) == (1, 11)


# -- exec form ------------------------------------------------------------------


def exec_positions(line: int, column: int, argv):
    """Positions of the JSON strings of ``RUN ["a", "b"]`` written with ", " separators."""
    out = []
    col = column
    for arg in argv:
        token = json.dumps(arg)
        out.append(Position(line, col, line, col + len(token)))
        col += len(token) + 2
    return out


def test_exec_form_sh_c():
    argv = ["sh", "-c", "apt-get update && apt-get install -y curl"]
    # RUN ["sh", "-c", "..."] on line 7: the first string starts at column 6
    cmds = exec_form_commands(argv, exec_positions(7, 6, argv))
    assert names(cmds) == ["sh", "apt-get", "apt-get"]
    assert cmds[0].extras.get("exec_form") and not cmds[0].builtin
    assert at(cmds[0]) == (7, 6)
    # the script string opens at column 18; its content starts at 19
    assert cmds[1].position == Position(7, 19, 7, 26)
    assert at(cmds[2]) == (7, 37)
    assert cmds[2].wrappers == ("sh -c",)


def test_exec_form_escaped_string_uses_element_position():
    argv = ["/bin/bash", "-c", 'echo "x" && make']
    positions = exec_positions(2, 6, argv)
    cmds = exec_form_commands(argv, positions)
    make = one(cmds, "make")
    assert make.position == positions[2]
    assert make.shell == "bash"


def test_exec_form_plain_and_wrapped():
    argv = ["sudo", "-u", "app", "pip", "install", "x"]
    positions = exec_positions(1, 6, argv)
    cmds = exec_form_commands(argv, positions)
    assert names(cmds) == ["sudo", "pip"]
    assert cmds[1].position == positions[3]
    assert cmds[1].arg_positions == tuple(positions[3:])
    assert exec_form_commands([], []) == []


# -- shells ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pwsh", "powershell", "cmd", "cmd.exe", "PowerShell.exe",
                                  "C:\\Windows\\System32\\cmd.exe", "/usr/bin/pwsh"])
def test_non_posix_shells(name):
    assert not is_posix_shell(name)
    assert commands(make_script("Get-ChildItem; dir"), name) == []


@pytest.mark.parametrize("name", ["sh", "/bin/sh", "bash", "/bin/bash", "ash", "zsh", ""])
def test_posix_shells(name):
    assert is_posix_shell(name)


def test_shell_field_is_the_running_shell():
    cmds = run("ls", "/bin/bash")
    assert cmds[0].shell == "bash"


# -- robustness -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "   ", 'echo "abc', "echo 'abc", "echo $(ls", "if then fi; ls", "a && && b", "((((((",
     "}}}} ]] fi done esac ;;", "cat <<EOF", "sh -c", "sudo", "env -u", "xargs -I", "timeout",
     "su -c", "bash <<<", "`", "$(", "\\", "\x00\x01\x02", "f() {", "case x in", "ls |",
     "sh -c 'sh -c \"sh -c \\\"ls\\\"\"'"],
)
def test_broken_input_never_raises(text):
    result = run(text)
    assert isinstance(result, list)


def test_deep_nesting_is_bounded():
    text = "ls"
    for level in range(40):
        text = f"bash <<E{level}\n{text}\nE{level}"
    cmds = run(text)
    assert names(cmds) == ["bash"] * (shell.MAX_DEPTH + 1)
    text = "ls"
    for _ in range(6):
        text = "sh -c " + shlex_quote(text)
    assert names(run(text)) == ["sh"] * 6 + ["ls"]
    deep = "(" * 5000 + "ls" + ")" * 5000
    assert isinstance(run(deep), list)
    nested = "$(" * 3000 + "ls" + ")" * 3000
    assert isinstance(run("echo " + nested), list)


def test_command_count_is_bounded():
    cmds = run("true;" * (shell.MAX_COMMANDS + 500))
    assert len(cmds) == shell.MAX_COMMANDS


def shlex_quote(s: str) -> str:
    return "'" + s.replace("'", "'\"'\"'") + "'"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=300).map(lambda b: b.decode("utf-8", "replace")),
        st.binary(max_size=300).map(lambda b: b.decode("utf-8", "surrogateescape")),
        st.lists(
            st.sampled_from(list("ab $(){}[]'\"`\\|&;<>\n\t-#=éc")
                            + ["sh -c ", "<<EOF\n", "EOF\n", "sudo ", "${", "$'", "bash <<<", "f() "]),
            max_size=80,
        ).map("".join),
        st.text(max_size=200),
    ),
    st.sampled_from(["sh", "bash"]),
)
def test_fuzz_never_raises(text, shell_name):
    cmds = commands(make_script(text, 3, 5), shell_name)
    for c in cmds:
        assert c.position.line >= 3
        assert len(c.arg_positions) == len(c.argv)


# -- shapes tree-sitter-bash misreads ---------------------------------------------------------


def _shape(cmds):
    return [(c.argv, c.extras.get("pipeline_id"), c.extras.get("pipeline_index"), c.position.line, c.position.column) for c in cmds]


@pytest.mark.parametrize("fast", ["0", "1"])
@pytest.mark.parametrize(
    "text,expected",
    [
        # the parser reads `a | b | c && d` as `a | ((b | c) && d)`
        ("a | b | c && d", [(("a",), 1, 0), (("b",), 1, 1), (("c",), 1, 2), (("d",), None, None)]),
        ("a | b | c | d || e && f", [(("a",), 1, 0), (("b",), 1, 1), (("c",), 1, 2), (("d",), 1, 3), (("e",), None, None), (("f",), None, None)]),
        ("a | b | c && d | e | f && g",
         [(("a",), 1, 0), (("b",), 1, 1), (("c",), 1, 2), (("d",), 2, 0), (("e",), 2, 1), (("f",), 2, 2), (("g",), None, None)]),
        # ... and takes the next lines' words as arguments of c
        ("a|b|c\nd\ne x\nf && g", [(("a",), 1, 0), (("b",), 1, 1), (("c",), 1, 2), (("d",), None, None), (("e", "x"), None, None), (("f",), None, None), (("g",), None, None)]),
        ("a b\n\\\n c", [(("a", "b"), None, None), (("c",), None, None)]),
    ],
)
def test_commands_the_parser_misreads_come_out_as_the_shell_runs_them(text, expected, fast, monkeypatch):
    monkeypatch.setattr(shell, "FAST_PATH", fast == "1")
    cmds = run(text)
    assert [(argv, pid, index) for argv, pid, index, _l, _c in _shape(cmds)] == expected


def test_misread_pipeline_keeps_positions_and_feeds_the_pipe_rules():
    from analyzer.rules import lint_text

    text = "FROM alpine:3.20\nRUN curl -fsSL https://x/i.sh | tee /tmp/log | sh && echo done\n"
    found = [f for f in lint_text(text) if f.rule in ("AN4006", "AN5003")]
    assert {f.rule for f in found} >= {"AN4006"}  # the pipe into sh is seen: set -o pipefail
    cmds = run("curl -fsSL u | tee log | sh && echo done", line=2, column=5)
    shape = _shape(cmds)
    assert shape[2] == (("sh",), 1, 2, 2, 30) and shape[3] == (("echo", "done"), None, None, 2, 36)
    cmds = run("a|b|c\nd x && e", line=3, column=5)
    assert _shape(cmds)[3] == (("d", "x"), None, None, 4, 1)


def test_a_command_on_a_continuation_line_stays_one_command():
    assert [c.argv for c in run("apt-get install \\\n  curl \\\n  git")] == [("apt-get", "install", "curl", "git")]
    assert [c.argv for c in run("a $(b\nc) d")][0] == ("a", "$(b\nc)", "d")


def test_quote_removal_shortcut_gives_what_the_full_loop_gives(monkeypatch):
    """Words with nothing to remove skip the character loop of ``_decode``."""
    from hypothesis import given, settings, strategies as st

    class Always:
        class compiled:
            @staticmethod
            def search(_text):
                return True  # "there is quoting": always take the loop

    @settings(max_examples=3000, deadline=None, database=None)
    @given(st.text(alphabet="ab/\\'\"$ \n-=x`é", max_size=14), st.data())
    def same(text, data):
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, len(text)))
        quick = shell._decode(text, start, end, {})
        with monkeypatch.context() as m:
            m.setattr(shell, "_QUOTING", Always)
            slow = shell._decode(text, start, end, {})
        assert quick == slow

    same()
    assert shell._decode("x /usr/bin/pip3", 2, 15, {}) == ("/usr/bin/pip3", list(range(2, 16)), False, "pip3")
