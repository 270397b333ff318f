"""From RUN instructions to the commands they invoke, with Dockerfile positions."""

from analyzer import parse
from analyzer.checks import Context


def commands(text):
    ctx = Context(parse(text))
    return [(c.name, c.position.line, c.position.column) for _run, c in ctx.commands]


def test_shell_form_after_flags():
    text = "FROM a\nRUN --mount=type=cache,target=/root/.cache -- pip install x\n"
    assert commands(text) == [("pip", 2, 47)]


def test_continuation_lines_keep_real_columns():
    text = "FROM a\nRUN apt-get update \\\n # note\n\n  && apt-get install -y x \\\n     && rm -rf /var/lib/apt/lists/*\n"
    assert commands(text) == [("apt-get", 2, 5), ("apt-get", 5, 6), ("rm", 6, 9)]


def test_heredoc_alone_is_the_script():
    text = "FROM a\nRUN <<EOF\nset -e\n  curl -fsSL x -o y\nEOF\n"
    assert commands(text) == [("set", 3, 1), ("curl", 4, 3)]


def test_heredoc_with_python_shebang_is_not_shell():
    text = "FROM a\nRUN <<EOF\n#!/usr/bin/env python3\nimport os\nprint(os.getcwd())\nEOF\n"
    assert commands(text) == []


def test_heredoc_fed_to_bash():
    text = "FROM a\nRUN <<EOF bash\napt-get update\nEOF\n"
    names = [c[0] for c in commands(text)]
    assert names == ["bash", "apt-get"]
    assert ("apt-get", 3, 1) in commands(text)


def test_heredoc_as_data_is_not_parsed():
    text = "FROM a\nRUN cat <<EOF > /etc/motd\nrm -rf /\nEOF\n"
    assert commands(text) == [("cat", 2, 5)]


def test_several_heredocs_on_one_line():
    text = "FROM a\nRUN <<A cat > /x && <<B sh\nnot a command\nA\necho from-b\nB\n"
    names = [c[0] for c in commands(text)]
    assert "echo" in names and "not" not in names
    assert ("echo", 5, 1) in commands(text)


def test_exec_form_with_sh_c():
    text = 'FROM a\nRUN ["sh", "-c", "apt-get update && sudo true"]\n'
    got = commands(text)
    assert ("apt-get", 2, 19) in got and ("sudo", 2, 37) in got


def test_exec_form_plain():
    text = 'FROM a\nRUN ["/usr/bin/apt-get", "update"]\n'
    assert commands(text) == [("/usr/bin/apt-get", 2, 6)]


def test_powershell_shell_is_not_parsed_as_posix():
    text = 'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["powershell", "-Command"]\nRUN Get-Item x | Select-Object Name\n'
    assert commands(text) == []


def test_cmd_shell_pragma():
    text = "# hadolint shell=cmd\nFROM a\nRUN dir C:\\\\ && echo x\n"
    from analyzer.rules import scan_suppressions

    df = parse(text)
    ctx = Context(df, shell_pragma=scan_suppressions(df).shell)
    assert ctx.commands == []


def test_shell_instruction_is_inherited_by_child_stage():
    text = 'FROM a AS base\nSHELL ["pwsh", "-c"]\nFROM base\nRUN Get-Item x\nFROM a\nRUN ls\n'
    assert commands(text) == [("ls", 6, 5)]


def test_onbuild_run_trigger():
    text = "FROM a\nONBUILD RUN apt-get install -y x\n"
    assert commands(text) == [("apt-get", 2, 13)]


def test_backtick_escape_directive():
    text = "# escape=`\nFROM a\nRUN echo one `\n  && sudo ls\n"
    assert ("sudo", 4, 6) in commands(text)


def test_chomped_heredoc_columns_count_the_stripped_tabs():
    text = "FROM a\nRUN <<-EOF sh -e\n\t\tapt-get update\n\tEOF\n"
    assert ("apt-get", 3, 3) in commands(text)


def test_heredoc_through_sudo_to_bash():
    text = "FROM a\nRUN sudo -u app bash <<'EOF'\nnpm ci\nEOF\n"
    ctx = Context(parse(text))
    [npm] = [c for _r, c in ctx.commands if c.name == "npm"]
    assert npm.wrappers == ("sudo", "bash <<") and (npm.position.line, npm.position.column) == (3, 1)


def test_heredoc_to_shell_with_script_argument_is_data():
    text = "FROM a\nRUN bash -c 'cat' <<EOF\nrm -rf /\nEOF\nRUN python3 <<EOF\nimport os\nEOF\n"
    names = [c[0] for c in commands(text)]
    assert "rm" not in names and "import" not in names
