#!/usr/bin/env python3
"""Benchmark: resolve the five-level sample chain cold (over HTTP) and warm (from cache).

Serves sample_dockerfiles/upstream/images on 127.0.0.1, analyses the seed example with a
catalog pointing there, then repeats warm with --offline semantics (no request may be
sent) and reports the analysis time (library calls, interpreter start-up excluded).

    python tools/bench_lineage.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class _Handler(http.server.SimpleHTTPRequestHandler):
    count = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).count += 1
        super().do_GET()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    opts = ap.parse_args()

    from analyzer import parse_file
    from analyzer.lineage.session import analyze_file, make_resolver

    handler = functools.partial(_Handler, directory=str(ROOT / "sample_dockerfiles" / "upstream"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/images"
    seed = ROOT / "sample_dockerfiles" / "jupyter-kaggle" / "Dockerfile"
    with tempfile.TemporaryDirectory() as tmp:
        cat = Path(tmp) / "catalog.yaml"
        cat.write_text(
            "images:\n"
            f'  - image: "jupyter/*"\n    dockerfile: {base}/{{name}}/Dockerfile\n    build_args: {{REGISTRY: docker.io}}\n'
        )
        cache = str(Path(tmp) / "cache")
        df = parse_file(str(seed))

        t0 = time.perf_counter()
        resolver = make_resolver(cache_dir=cache, catalogs=[str(cat)])
        result = analyze_file(df, resolver)
        cold = time.perf_counter() - t0
        chain = [d.image for d in result.chain_for(result.target)]
        cold_requests = _Handler.count

        times = []
        for _ in range(opts.repeat):
            t0 = time.perf_counter()
            resolver = make_resolver(cache_dir=cache, offline=True, catalogs=[str(cat)])
            result = analyze_file(df, resolver)
            times.append(time.perf_counter() - t0)
        warm_requests = _Handler.count - cold_requests
    server.shutdown()
    print(f"chain ({len(chain)} images): {' <- '.join(chain)}")
    print(f"cold: {cold * 1000:.1f} ms, {cold_requests} requests")
    print(f"warm (offline, cache): median {statistics.median(times) * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms over {len(times)} runs, {warm_requests} requests")
    return 0 if warm_requests == 0 and len(chain) == 5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
