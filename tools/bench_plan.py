"""Time ``--plan`` on a large build context: cold (empty hash cache) and warm.

    .venv/bin/python tools/bench_plan.py [--files 10000] [--size 2048] [--runs 3]

Makes a temp context of FILES files (SIZE bytes each, in nested directories, with a
.dockerignore), a Dockerfile that copies all of it, records a build, and times
``analyzer.cache.plan`` with a fresh cache directory (cold: every file read and hashed)
and again with the hash cache in place (warm: only stat calls). Targets: cold < 5 s,
warm < 1 s for 10,000 files.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzer.cache import PlanOptions, plan, record  # noqa: E402
from analyzer.parse import parse  # noqa: E402

DOCKERFILE = """\
FROM busybox
WORKDIR /app
COPY requirements.txt /app/
RUN pip install -r requirements.txt
COPY . /app
RUN echo done
"""


def make_context(root: Path, files: int, size: int) -> None:
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "requirements.txt").write_text("flask\n")
    (root / ".dockerignore").write_text("**/*.log\nbuild\n")
    per_dir = 100
    chunk = os.urandom(size)
    for i in range(files):
        d = root / "src" / f"pkg{i // (per_dir * 10)}" / f"mod{(i // per_dir) % 10}"
        if i % per_dir == 0:
            d.mkdir(parents=True, exist_ok=True)
        name = f"file{i}.log" if i % 50 == 0 else f"file{i}.py"
        (d / name).write_bytes(chunk[: size - 8] + i.to_bytes(8, "little"))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--builder", default="buildkit", choices=("buildkit", "classic"))
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        root = Path(tmp) / "ctx"
        root.mkdir()
        t = timed(lambda: make_context(root, args.files, args.size))
        print(f"context: {args.files:,} files of {args.size:,} bytes made in {t:.2f} s")
        df = parse((root / "Dockerfile").read_text(), str(root / "Dockerfile"))

        colds, warms = [], []
        for run in range(args.runs):
            cache = Path(tmp) / f"cache-{run}"
            options = PlanOptions(builder=args.builder, cache_dir=str(cache), docker=None, fetch=False)
            colds.append(timed(lambda: plan(df, options)))
            record(df, options)
            for _ in range(2):
                warms.append(timed(lambda: plan(df, options)))
        result = plan(df, options)
        print(f"steps: {len(result.steps)}, predictions: {[s.prediction for s in result.steps]}")
        print(f"cold --plan: best {min(colds):.3f} s, median {sorted(colds)[len(colds) // 2]:.3f} s (target < 5 s)")
        print(f"warm --plan: best {min(warms):.3f} s, median {sorted(warms)[len(warms) // 2]:.3f} s (target < 1 s)")
        ok = min(colds) < 5 and min(warms) < 1
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
