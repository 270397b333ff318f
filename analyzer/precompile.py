"""``python -m analyzer.precompile``: compile the package's bytecode and the dataclass code
cache now (what ``pip install`` does for bytecode), for installs where Python does not
write bytecode itself (``PYTHONDONTWRITEBYTECODE``, a read-only tree at run time)."""

from __future__ import annotations

import compileall
import os
import sys


def main() -> int:
    from . import _startup

    package = os.path.dirname(os.path.abspath(__file__))
    ok = compileall.compile_dir(package, quiet=1)
    entries = _startup.prepare()
    print(f"bytecode {'compiled' if ok else 'compiled with errors'} under {package}; {entries} dataclass methods cached")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
