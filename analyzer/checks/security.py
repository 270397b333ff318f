"""Our own rules, beyond hadolint and BuildKit (AN5001+).

Security: TLS or signature verification turned off, secrets in ARG/ENV values and RUN
text, downloaded scripts run without verification. Correctness and cache: Dockerfile
keywords inside a RUN, stages no build target reaches, a whole-context COPY ahead of a
dependency install.
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

from ..lazyre import lazy
from ..model import AnalyzerError, Instruction, Position, Script, ShellCommand
from ..scripts import body_script
from ..shell import basename
from . import Hit, check, command_span, word_span

# --- shared helpers -----------------------------------------------------------------------


def _name(cmd: ShellCommand) -> str:
    return basename(cmd.name) if not cmd.dynamic else cmd.extras.get("static_basename", "")


def _arg_pos(cmd: ShellCommand, index: int) -> Position:
    if 0 <= index < len(cmd.arg_positions):
        return cmd.arg_positions[index]
    return cmd.position


def _scripts(run) -> Iterator[Script]:
    """Every shell text of a RUN with its positions: the command line (or the heredoc
    script) and the heredoc bodies fed to a shell."""
    if run.script is not None:
        yield run.script
    for doc, _placeholder in run.heredocs:
        yield body_script(doc)


def _exec_words(run) -> Iterator[tuple[str, Position]]:
    for word, pos in zip(run.argv, run.argv_positions):
        yield word, pos


_PIP = re.compile(r"pip(?:\d+(?:\.\d+)?)?")
_PYTHON = re.compile(r"python(?:\d+(?:\.\d+)?)?")


def _is_pip(cmd: ShellCommand) -> Optional[int]:
    """Index in argv where pip's own arguments start, when ``cmd`` runs pip."""
    name = _name(cmd)
    if _PIP.fullmatch(name):
        return 1
    if _PYTHON.fullmatch(name) and list(cmd.argv[1:3]) == ["-m", "pip"]:
        return 3
    if name == "uv" and len(cmd.argv) > 1 and cmd.argv[1] == "pip":
        return 2
    return None


def _redact(secret: str) -> str:
    return secret[:4] + "…" if len(secret) > 8 else "…"


# --- AN5001: TLS / signature verification off -----------------------------------------------------

_CURL_SHORT_WITH_VALUE = set("AbcCdDeEFHKmoPQrtTuUwxXyYz")

_ENV_INSECURE = {
    "NODE_TLS_REJECT_UNAUTHORIZED": (lazy(r"^0$"), "makes Node.js accept any TLS certificate"),
    "GIT_SSL_NO_VERIFY": (lazy(r"^.+$"), "turns off git's TLS certificate checks (any value does)"),
    "PYTHONHTTPSVERIFY": (lazy(r"^0$"), "turns off certificate checks in Python's urllib"),
    "NPM_CONFIG_STRICT_SSL": (lazy(r"^(?:false|0|no)$", re.I), "makes npm accept any TLS certificate"),
    "PIP_TRUSTED_HOST": (lazy(r"^.+$"), "makes pip trust a host without TLS verification"),
}
_ENV_ASSIGN = lazy(
    r"(?<![\w$])(" + "|".join(_ENV_INSECURE) + r")=(?:\"([^\"]*)\"|'([^']*)'|([^\s;&|)\"']*))"
)

# text anywhere in a RUN word: config written by echo/printf/tee, -o options, repo lines.
# A key may follow a literal \n or \t (printf "...\ngpgcheck=0").
_KEY_START = r"(?:(?<=\\n)|(?<=\\t)|(?<![A-Za-z0-9_]))"
_WORD_PATTERNS = [  # (lower-case text the word must contain, pattern, why)
    ("verify-", lazy(r"verify-(?:peer|host)\W{0,4}(?:false|0|no)\b", re.I), "turns off apt's TLS certificate checks"),
    (
        "allow",
        lazy(r"allow(?:insecurerepositories|unauthenticated|downgradetoinsecurerepositories)\W{0,4}(?:true|1|yes)\b", re.I),
        "makes apt accept unsigned packages or repositories",
    ),
    ("trusted=", lazy(_KEY_START + r"trusted=yes\b", re.I), "marks an apt repository as trusted without a signature"),
    ("gpgcheck", lazy(_KEY_START + r"gpgcheck\s*=\s*0\b", re.I), "turns off package signature checks in a yum/dnf repository"),
    ("sslverify", lazy(_KEY_START + r"sslverify\s*=\s*(?:0|false|no)\b", re.I), "turns off TLS certificate checks"),
    ("check_certificate", lazy(_KEY_START + r"check_certificate\s*=\s*off\b", re.I), "turns off wget's TLS certificate checks"),
    ("strict-ssl", lazy(_KEY_START + r"strict-ssl\s*=\s*false\b", re.I), "makes npm accept any TLS certificate"),
    ("sslverify", lazy(r"\bhttp\.(?:[^\s=]+\.)?sslverify\s*=\s*(?:false|0|no)\b", re.I), "turns off git's TLS certificate checks"),
]
_WORD_NEEDLES = tuple(dict.fromkeys(needle for needle, _, _ in _WORD_PATTERNS))


def _curl_insecure(cmd: ShellCommand) -> Iterator[tuple[int, str]]:
    argv = cmd.argv
    i = 1
    while i < len(argv):
        word = argv[i]
        if word in ("--insecure", "--proxy-insecure"):
            yield i, word
        elif word.startswith("-") and not word.startswith("--") and len(word) > 1:
            for ch in word[1:]:
                if ch == "k":
                    yield i, "-k"
                    break
                if ch in _CURL_SHORT_WITH_VALUE:
                    break
        i += 1


def _flag_hits(cmd: ShellCommand) -> Iterator[tuple[int, str]]:
    """(argv index, explanation) for verification-disabling options of a command."""
    name = _name(cmd)
    argv = cmd.argv
    if name == "curl":
        for i, word in _curl_insecure(cmd):
            yield i, f"curl {word} accepts any TLS certificate"
    elif name == "wget":
        for i, word in enumerate(argv):
            if word == "--no-check-certificate" or word.startswith("--check-certificate=off"):
                yield i, f"wget {word} accepts any TLS certificate"
    elif name in ("apk",):
        for i, word in enumerate(argv):
            if word == "--allow-untrusted":
                yield i, "apk --allow-untrusted installs packages whose signature is not checked"
    elif name in ("apt-get", "apt", "aptitude"):
        for i, word in enumerate(argv):
            if word in ("--allow-unauthenticated", "--allow-insecure-repositories", "--allow-downgrade-to-insecure-repositories"):
                yield i, f"{name} {word} installs packages whose signature is not checked"
    elif name in ("yum", "dnf", "microdnf", "tdnf", "rpm", "zypper"):
        for i, word in enumerate(argv):
            if word in ("--nogpgcheck", "--no-gpg-checks", "--nosignature", "--nodigest"):
                yield i, f"{name} {word} installs packages whose signature is not checked"
            elif re.fullmatch(r"--setopt=.*sslverify=(?:0|false|no)", word, re.I):
                yield i, f"{name} {word} turns off TLS certificate checks"
    elif name in ("npm", "yarn", "pnpm"):
        for i, word in enumerate(argv):
            if word == "strict-ssl" and i + 1 < len(argv) and argv[i + 1].lower() in ("false", "0", "no"):
                yield i, f"{name} config {word} {argv[i + 1]} makes {name} accept any TLS certificate"
            elif word in ("--strict-ssl=false", "--no-strict-ssl"):
                yield i, f"{name} {word} accepts any TLS certificate"
    elif name == "git":
        for i, word in enumerate(argv):
            if re.fullmatch(r"http\.(?:[^\s=]+\.)?sslverify", word, re.I) and i + 1 < len(argv) and argv[i + 1].lower() in ("false", "0", "no", "off"):
                yield i, f"git config {word} {argv[i + 1]} turns off TLS certificate checks"
    elif name in ("conda", "mamba", "micromamba"):
        for i, word in enumerate(argv):
            if word == "ssl_verify" and i + 1 < len(argv) and argv[i + 1].lower() in ("false", "0", "no"):
                yield i, f"{name} config ssl_verify {argv[i + 1]} turns off TLS certificate checks"
    start = _is_pip(cmd)
    if start is not None:
        for i, word in enumerate(argv[start:], start=start):
            if word == "--trusted-host" or word.startswith("--trusted-host="):
                yield i, "pip --trusted-host fetches from that host without TLS verification"
            elif word in ("--allow-insecure-host",) or word.startswith("--allow-insecure-host="):
                yield i, "uv --allow-insecure-host fetches from that host without TLS verification"
            elif re.fullmatch(r"(?:global|install)\.trusted-host", word):
                yield i, f"pip config {word} trusts a host without TLS verification"
    if name in ("echo", "printf", "tee") and any(".curlrc" in r for r in cmd.extras.get("redirects", ())):
        for i, word in enumerate(argv[1:], start=1):
            if word.strip() in ("insecure", "-k", "--insecure", "k"):
                yield i, "writes 'insecure' to .curlrc: every curl then accepts any TLS certificate"


def _env_value_hits(key: str, value: str) -> Optional[str]:
    rule = _ENV_INSECURE.get(key)
    if rule is None:
        return None
    value = value.strip().strip("\"'")
    return rule[1] if rule[0].match(value) else None


def _command_tls_hits(cmd: ShellCommand) -> tuple:
    """(argv index, message) for each option or word of ``cmd`` that turns verification
    off. It depends on the command's name, words and redirections alone, which repeat from
    RUN to RUN and file to file: worked out once for each."""
    key = (_name(cmd), tuple(cmd.argv), tuple(cmd.extras.get("redirects", ())))
    found = _TLS_HITS.get(key)
    if found is None:
        out = [(index, f"{why}: a man in the middle can replace what is downloaded") for index, why in _flag_hits(cmd)]
        words = "\x00".join(cmd.argv[1:]).lower()
        if any(needle in words for needle in _WORD_NEEDLES):  # else no pattern can match
            for i, word in enumerate(cmd.argv[1:], start=1):
                low = word.lower()
                for needle, pattern, why in _WORD_PATTERNS:
                    m = pattern.search(word) if needle in low else None
                    if m:
                        out.append((i, f"'{m.group(0)}' {why}"))
                        break
        if len(_TLS_HITS) >= 4096:
            _TLS_HITS.clear()
        found = _TLS_HITS[key] = tuple(out)
    return found


_TLS_HITS: dict = {}


@check("AN5001", keywords=("ENV", "ARG", "RUN"))
def tls_verification_disabled(ctx):
    seen = set()

    def hit(pos: Position, message: str):
        key = (pos.line, pos.column)
        if key in seen:
            return None
        seen.add(key)
        return Hit(pos, message)

    # ENV / ARG
    for ins in ctx.instructions("ENV", "ARG"):
        if ins.keyword == "ENV":
            pairs = [(ins.args[i], ins.args[i + 1] if i + 1 < len(ins.args) else "") for i in range(0, len(ins.args), 2)]
        else:
            pairs = [tuple(a.split("=", 1)) for a in ins.args if "=" in a]
        for key, value in pairs:
            why = _env_value_hits(key, value)
            if why:
                h = hit(word_span(ins, key, len(ins.keyword_as_written)), f"{ins.keyword} {key}={value.strip()} {why}; the build and the image trust any server")
                if h:
                    yield h
    # RUN: commands and their options
    for _run, cmd in ctx.commands:
        for index, message in _command_tls_hits(cmd):
            h = hit(_arg_pos(cmd, index), message)
            if h:
                yield h
    # RUN: inline variable assignments (NODE_TLS_REJECT_UNAUTHORIZED=0 npm ci, export ...)
    for run in ctx.runs:
        texts = [(s.text, s) for s in _scripts(run)]
        for text, script in texts:
            if not any(name in text for name in _ENV_INSECURE):
                continue  # the pattern needs one of the names
            for m in _ENV_ASSIGN.finditer(text):
                value = next((g for g in m.groups()[1:] if g is not None), "")
                why = _env_value_hits(m.group(1), value)
                if why:
                    h = hit(script.span(m.start(), m.start() + len(m.group(1))), f"{m.group(0)} {why}")
                    if h:
                        yield h
        if run.script is None:
            for word, pos in _exec_words(run):
                for m in _ENV_ASSIGN.finditer(word):
                    value = next((g for g in m.groups()[1:] if g is not None), "")
                    why = _env_value_hits(m.group(1), value)
                    if why:
                        h = hit(pos, f"{m.group(0)} {why}")
                        if h:
                            yield h


# --- AN5002: secrets in values --------------------------------------------------------------------

_TOKEN_PATTERNS = [
    (lazy(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b"), "an AWS access key id"),
    (lazy(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"), "a GitHub token"),
    (lazy(r"\bgithub_pat_[A-Za-z0-9_]{22,}\b"), "a GitHub token"),
    (lazy(r"\bglpat-[A-Za-z0-9_-]{20,}"), "a GitLab token"),
    (lazy(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (lazy(r"\b[sr]k_live_[A-Za-z0-9]{20,}\b"), "a Stripe secret key"),
    (lazy(r"\bAIza[0-9A-Za-z_-]{35}"), "a Google API key"),
    (lazy(r"\bnpm_[A-Za-z0-9]{36}\b"), "an npm token"),
    (lazy(r"\bpypi-AgE[A-Za-z0-9_-]{50,}"), "a PyPI token"),
    (lazy(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "a JSON web token"),
    (lazy(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"), "a private key"),
]
_URL_CREDENTIALS = lazy(r"\b[a-z][a-z0-9+.-]*://([^/\s:@$]+):([^@\s/$]+)@", re.I)
_PASSWORD_ASSIGN = lazy(
    r"(?:^|[^A-Za-z0-9])(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)\s*[=:]\s*"
    r"(?:\"([^\"$]+)\"|'([^'$]+)'|([^\s\"'$;&|,]+))",
    re.I,
)
_PLACEHOLDER = lazy(r"^(?:<.*|\*+|x+|\.\.\.|null|none|true|false|\{\{.*\}\}|%.*%)$", re.I)


# every token pattern starts with one of these: text without any needs none of them tried
_TOKEN_HINT = lazy(r"A(?:KIA|SIA|GPA|IDA|ROA|IPA|NPA|NVA)|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|k_live_|AIza|npm_|pypi-AgE|eyJ|-----BEGIN ")
_PASSWORD_HINT = lazy(r"pass|pwd|secret|token|api|access", re.I)


def secret_values(text: str, assignments: bool) -> Iterator[tuple[int, int, str]]:
    """(start, end, what) for every secret-looking part of ``text``."""
    if _TOKEN_HINT.search(text):
        for pattern, what in _TOKEN_PATTERNS:
            for m in pattern.finditer(text):
                yield m.start(), m.end(), what
    if "://" in text and "@" in text:  # user:password@ needs both
        for m in _URL_CREDENTIALS.finditer(text):
            if not _PLACEHOLDER.match(m.group(2)):
                yield m.start(2), m.end(2), "a password inside a URL"
    if assignments and _PASSWORD_HINT.search(text):
        for m in _PASSWORD_ASSIGN.finditer(text):
            idx = next(i for i in (1, 2, 3) if m.group(i) is not None)
            value = m.group(idx)
            if value and not _PLACEHOLDER.match(value) and not value.startswith(("/", "${")):
                yield m.start(idx), m.end(idx), "a literal password or token"


@check("AN5002", keywords=("ARG", "ENV", "RUN"))
def secret_in_value(ctx):
    seen = set()
    for ins in ctx.instructions("ARG", "ENV"):
        if ins.keyword == "ENV":
            values = [ins.args[i + 1] for i in range(0, len(ins.args) - 1, 2)]
        else:
            values = [a.split("=", 1)[1] for a in ins.args if "=" in a]
        start_at = len(ins.keyword_as_written)
        for value in values:
            for start, end, what in secret_values(value, assignments=True):
                secret = value[start:end]
                pos = word_span(ins, secret, start_at)
                if (pos.line, pos.column) in seen:
                    continue
                seen.add((pos.line, pos.column))
                yield Hit(
                    pos,
                    f"{ins.keyword} value holds what looks like {what} ({_redact(secret)}): ARG and ENV values stay "
                    "readable in the image (docker history / inspect); use RUN --mount=type=secret",
                )
    for run in ctx.runs:
        scripts = list(_scripts(run))
        if run.script is None:
            scripts = [Script(w, ((0, p.line, p.column),)) for w, p in _exec_words(run)]
        for script in scripts:
            for start, end, what in secret_values(script.text, assignments=False):
                pos = script.span(start, end)
                if (pos.line, pos.column) in seen:
                    continue
                seen.add((pos.line, pos.column))
                yield Hit(
                    pos,
                    f"RUN holds what looks like {what} ({_redact(script.text[start:end])}): the command text is "
                    "kept in the image history; use RUN --mount=type=secret",
                )


# --- AN5003: a downloaded script run without verification ----------------------------------------------

_SHELLS = {"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox"}
_VERIFIERS = {"sha256sum", "sha512sum", "sha384sum", "sha1sum", "shasum", "md5sum", "b2sum", "gpg", "gpgv", "cosign", "minisign", "signify", "openssl", "rhash", "cksum"}
_DOWNLOAD_IN_SUBST = lazy(r"(?:\$\(|`|<\()\s*(?:[\w./-]*/)?(curl|wget)\b")
_SHELL_OPTS_WITH_VALUE = {"-o", "+o", "-O", "+O", "--rcfile", "--init-file"}


def _reads_stdin(cmd: ShellCommand) -> bool:
    """True when a shell command takes its script from standard input."""
    args = list(cmd.argv[1:])
    if _name(cmd) == "busybox":
        if not args or args[0] not in ("sh", "ash"):
            return False
        args = args[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-c" or (a.startswith("-") and not a.startswith("--") and "c" in a[1:]):
            return False
        if a in _SHELL_OPTS_WITH_VALUE:
            i += 2
            continue
        if a in ("-s", "--", "-"):
            return True
        if not a.startswith(("-", "+")):
            return False
        i += 1
    return True


def _writes_stdout(cmd: ShellCommand) -> bool:
    name = _name(cmd)
    argv = cmd.argv
    if name == "curl":
        for w in argv[1:]:
            if w in ("-o", "-O", "--output", "--remote-name", "--remote-name-all") or w.startswith("--output="):
                return False
            if w.startswith("-") and not w.startswith("--") and ("o" in w[1:] or "O" in w[1:]):
                return False
        return True
    if name == "wget":
        for i, w in enumerate(argv[1:], start=1):
            if w in ("-O", "--output-document") and i + 1 < len(argv) and argv[i + 1] == "-":
                return True
            if w in ("--output-document=-",) or re.fullmatch(r"-[a-zA-Z]*O-", w):
                return True
        return False
    return False


def _download_target(cmd: ShellCommand) -> Optional[str]:
    """The file a curl/wget writes to, when given with -o/-O."""
    name = _name(cmd)
    argv = cmd.argv
    for i, w in enumerate(argv[1:], start=1):
        if name == "curl":
            if w in ("-o", "--output") and i + 1 < len(argv):
                return argv[i + 1]
            if w.startswith("--output="):
                return w.split("=", 1)[1]
            if re.fullmatch(r"-[a-zA-Z]*o", w) and i + 1 < len(argv):
                return argv[i + 1]
            if w in ("-O", "--remote-name") or re.fullmatch(r"-[a-zA-Z]*O[a-zA-Z]*", w):
                urls = [a for a in argv[1:] if re.match(r"https?://", a)]
                if urls:
                    return urls[-1].rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
        elif name == "wget":
            if w in ("-O", "--output-document") and i + 1 < len(argv):
                return argv[i + 1]
            if w.startswith("--output-document="):
                return w.split("=", 1)[1]
            m = re.fullmatch(r"-[a-zA-Z]*O(.+)", w)
            if m:
                return m.group(1)
            if re.fullmatch(r"-[a-zA-Z]*O", w) and i + 1 < len(argv):
                return argv[i + 1]
    if name == "wget":
        urls = [a for a in argv[1:] if re.match(r"https?://", a)]
        if urls:
            return urls[-1].rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    return None


def _base(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


@check("AN5003", keywords=("RUN",))
def remote_script_to_shell(ctx):
    by_run: dict[int, list[ShellCommand]] = {}
    runs = {}
    for run, cmd in ctx.commands:
        by_run.setdefault(id(run), []).append(cmd)
        runs[id(run)] = run
    for key, cmds in by_run.items():
        verified = any(_name(c) in _VERIFIERS for c in cmds)
        pipes: dict[int, list[ShellCommand]] = {}
        for c in cmds:
            if "pipeline_id" in c.extras:
                pipes.setdefault(c.extras["pipeline_id"], []).append(c)
        # curl ... | sh
        for members in pipes.values():
            downloads = [c for c in members if _name(c) in ("curl", "wget") and _writes_stdout(c)]
            if not downloads:
                continue
            first = min(c.extras["pipeline_index"] for c in downloads)
            for c in members:
                if c.extras["pipeline_index"] > first and _name(c) in _SHELLS and _reads_stdin(c):
                    dl = next(d for d in downloads if d.extras["pipeline_index"] == first)
                    yield Hit(
                        c.position,
                        f"the script downloaded by {_name(dl)} (line {dl.position.line}) is piped straight into "
                        f"{_name(c)}: whatever the server sends runs, unverified; download to a file, check its "
                        "sha256sum, then run it",
                    )
        for c in cmds:
            name = _name(c)
            # sh -c "$(curl ...)", bash <(curl ...), eval "$(wget -O- ...)", source <(curl ...)
            if name in _SHELLS | {"eval", "source", "."}:
                for i, word in enumerate(c.argv[1:], start=1):
                    m = _DOWNLOAD_IN_SUBST.search(word)
                    if m:
                        yield Hit(
                            c.position,
                            f"{name} runs the output of {m.group(1)} directly: whatever the server sends runs, "
                            "unverified; download to a file, check its sha256sum, then run it",
                        )
                        break
        # curl -o install.sh URL && sh install.sh, with no checksum anywhere in the RUN
        if verified:
            continue
        targets = {}
        for c in cmds:
            if _name(c) in ("curl", "wget"):
                t = _download_target(c)
                if t and t != "-":
                    targets[_base(t)] = c
        if not targets:
            continue
        for c in cmds:
            name = _name(c)
            script = None
            if name in _SHELLS and len(c.argv) > 1:
                operands = [a for a in c.argv[1:] if not a.startswith(("-", "+"))]
                if operands and "-c" not in c.argv[1:]:
                    script = operands[0]
            elif "/" in c.name and _base(c.name) in targets and not c.dynamic:
                script = c.name
            if script is None or _base(script) not in targets:
                continue
            dl = targets[_base(script)]
            if (dl.position.line, dl.position.column) >= (c.position.line, c.position.column):
                continue
            yield Hit(
                c.position,
                f"{script} was downloaded by {_name(dl)} (line {dl.position.line}) and is run without a checksum or "
                "signature check: verify it first (echo \"<sha256>  file\" | sha256sum -c -)",
            )


# --- AN5004: Dockerfile keywords inside a RUN ---------------------------------------------------------

DOCKERFILE_KEYWORDS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}


_KEYWORD_AT_LINE_START = lazy(r"[ \t]*([A-Z]+)[ \t]")


@check("AN5004", keywords=("RUN",))
def dockerfile_keyword_in_run(ctx):
    seen = set()
    by_run: dict[int, list] = {}
    for run, cmd in ctx.commands:
        by_run.setdefault(id(run), []).append(cmd)
        if not cmd.dynamic and cmd.name in DOCKERFILE_KEYWORDS:
            key = (cmd.position.line, cmd.position.column)
            seen.add(key)
            yield Hit(
                cmd.position,
                f"'{cmd.name}' is a Dockerfile instruction, not a command: inside a RUN the shell tries to run a "
                f"program called {cmd.name} and fails; end the RUN and start a new {cmd.name} instruction",
            )
    for run in ctx.runs:
        ins = run.instruction
        if run.script is None or not ins.segments:
            continue
        words = None  # where the RUN's commands and arguments start, when a line needs it
        for off, line, col in ins.segments[1:]:
            m = _KEYWORD_AT_LINE_START.match(ins.logical, off)
            if not m or m.group(1) not in DOCKERFILE_KEYWORDS:
                continue
            wline, wcol = line, col + m.start(1) - off
            if (wline, wcol) in seen:
                continue
            if words is None:
                words = set()
                for cmd in by_run.get(id(run), ()):
                    words.update((p.line, p.column) for p in cmd.arg_positions)
                    words.add((cmd.position.line, cmd.position.column))
            if (wline, wcol) not in words:
                continue
            seen.add((wline, wcol))
            kw = m.group(1)
            yield Hit(
                Position(wline, wcol, wline, wcol + len(kw)),
                f"this continuation line of the RUN on line {ins.start_line} starts with {kw}: the line before "
                f"ends in a backslash, so '{kw} ...' is joined to the RUN as arguments instead of being an "
                "instruction; remove the trailing backslash",
            )


# --- AN5005: unreachable stages --------------------------------------------------------------------------


def _mount_froms(ins: Instruction) -> list[str]:
    out = []
    for value in ins.flag_values("mount"):
        for part in value.split(","):
            key, _, v = part.partition("=")
            if key.strip().lower() == "from" and v:
                out.append(v.strip())
    return out


@check("AN5005")
def unreachable_stage(ctx):
    df = ctx.df
    if len(df.stages) < 2:
        return
    try:
        res = ctx.resolution
    except AnalyzerError:
        return
    by_name = {s.name: s.index for s in df.stages if s.name}
    deps: dict[int, set] = {s.index: set() for s in df.stages}
    for stage in df.stages:
        rs = res.stages[stage.index]
        if rs.base_unresolved and "$" in stage.base:
            return  # a base chosen by a build argument could be any stage
        if rs.base_stage is not None:
            deps[stage.index].add(rs.base_stage)
        for ins in ctx.stage_instructions(stage, "COPY", "RUN", "ADD"):
            refs = ins.flag_values("from") if ins.keyword in ("COPY", "ADD") else _mount_froms(ins)
            for ref in refs:
                value = ref
                if "$" in ref:
                    try:
                        exp = res.expand_in(ins, ref)
                    except AnalyzerError:
                        return
                    if exp.missing:
                        return
                    value = exp.value
                if value.lower() in by_name:
                    deps[stage.index].add(by_name[value.lower()])
                elif re.fullmatch(r"\d+", value) and int(value) < len(df.stages):
                    deps[stage.index].add(int(value))
    wanted = ctx.option("targets")
    roots = {df.stages[-1].index}
    if wanted:
        for t in [wanted] if isinstance(wanted, (str, int)) else wanted:
            t = str(t)
            if t.lower() in by_name:
                roots.add(by_name[t.lower()])
            elif t.isdigit() and int(t) < len(df.stages):
                roots.add(int(t))
    reached = set()
    todo = list(roots)
    while todo:
        i = todo.pop()
        if i in reached:
            continue
        reached.add(i)
        todo.extend(deps[i])
    for stage in df.stages:
        if stage.index in reached:
            continue
        ins = stage.from_instruction
        label = f"stage '{stage.name_as_written}'" if stage.name else f"stage {stage.index}"
        pos = word_span(ins, stage.name_as_written, len(ins.keyword_as_written)) if stage.name_as_written else ins.position
        yield Hit(
            pos,
            f"{label} is not the final stage and no stage the build reaches uses it (FROM, COPY --from, "
            "RUN --mount from=): docker build skips it, the classic builder builds it for nothing; remove it, "
            "or list it in this rule's 'targets' option if it is built with --target",
        )


# --- AN5006: whole-context COPY before a dependency install ---------------------------------------------


def _package_args(argv, start: int) -> list[str]:
    return [a for a in argv[start:] if not a.startswith("-")]


def dependency_install(cmd: ShellCommand) -> Optional[str]:
    """The manifest/lock files a dependency install reads, when ``cmd`` is one."""
    name = _name(cmd)
    argv = list(cmd.argv)
    sub = argv[1] if len(argv) > 1 else ""
    pip_at = _is_pip(cmd)
    if pip_at is not None and len(argv) > pip_at and argv[pip_at] == "install":
        for i, w in enumerate(argv[pip_at + 1 :], start=pip_at + 1):
            if w in ("-r", "--requirement") and i + 1 < len(argv):
                return argv[i + 1]
            if w.startswith("--requirement="):
                return w.split("=", 1)[1]
            if w.startswith("-r") and len(w) > 2:
                return w[2:]
        return None
    if name == "npm" and sub in ("ci", "install", "i") and (sub == "ci" or not _package_args(argv, 2)):
        return "package.json and package-lock.json"
    if name == "yarn" and (sub in ("", "install") or (sub.startswith("-") and not _package_args(argv, 1))):
        return "package.json and yarn.lock"
    if name == "pnpm" and sub in ("install", "i") and not _package_args(argv, 2):
        return "package.json and pnpm-lock.yaml"
    if name == "bundle" and sub == "install":
        return "Gemfile and Gemfile.lock"
    if name == "composer" and sub == "install":
        return "composer.json and composer.lock"
    if name == "go" and argv[1:3] == ["mod", "download"]:
        return "go.mod and go.sum"
    if name == "poetry" and sub == "install":
        return "pyproject.toml and poetry.lock"
    if name == "pipenv" and sub in ("install", "sync") and not _package_args(argv, 2):
        return "Pipfile and Pipfile.lock"
    if name == "uv" and sub == "sync":
        return "pyproject.toml and uv.lock"
    if name == "mix" and sub == "deps.get":
        return "mix.exs and mix.lock"
    if name == "cargo" and sub == "fetch":
        return "Cargo.toml and Cargo.lock"
    if name == "dotnet" and sub == "restore":
        return "the project files (*.csproj)"
    return None


def _whole_context(ctx, ins: Instruction) -> bool:
    if ins.flag("from") is not None or len(ins.args) < 2 or ins.heredocs:
        return False
    for raw in ins.args[:-1]:
        value = raw
        if "$" in raw:
            try:
                value = ctx.resolution.expand_in(ins, raw).value
            except AnalyzerError:
                continue
        if value.strip("\"'") in (".", "./", "*", "./*", "/"):
            return True
    return False


@check("AN5006", keywords=("COPY", "ADD"))
def copy_context_before_install(ctx):
    by_ins: dict[int, list[ShellCommand]] = {}
    for run, cmd in ctx.commands:
        if run.instruction.trigger is None:
            by_ins.setdefault(run.instruction.index, []).append(cmd)
    for stage in ctx.df.stages:
        whole = None
        for ins in ctx.stage_instructions(stage):
            if ins.keyword in ("COPY", "ADD") and whole is None and _whole_context(ctx, ins):
                whole = ins
                continue
            if ins.keyword != "RUN" or whole is None:
                continue
            for cmd in by_ins.get(ins.index, ()):
                manifest = dependency_install(cmd)
                if manifest is None:
                    continue
                shown = " ".join(cmd.argv)
                if len(shown) > 48:
                    shown = shown[:47] + "…"
                yield Hit(
                    command_span(cmd),
                    f"'{shown}' runs after the whole build context was copied ({whole.keyword_as_written} on line "
                    f"{whole.start_line}): any source change re-runs the install; copy {manifest} first, "
                    "install, then copy the rest",
                )
