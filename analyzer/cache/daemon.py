"""Optional look-ups in the local Docker engine through the docker CLI.

Never required: without a CLI, without a daemon, or when a call times out, the answers are
"unknown" and the plan says so. One ``docker image inspect`` call answers for many
references at once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Iterable, Optional

TIMEOUT = 5.0
_UNREACHABLE = (
    "cannot connect to the docker daemon",
    "is the docker daemon running",
    "permission denied",
    "error during connect",
    "no such host",
    "connection refused",
)


def find_docker(option: Optional[str]) -> Optional[str]:
    """The docker CLI to use: ``option`` when it names one, "auto": /usr/bin/docker (20.10,
    both builders) or ``docker`` on PATH; None: never ask."""
    if option is None or option == "":
        return None
    if option != "auto":
        return option if os.path.exists(option) or shutil.which(option) else None
    if os.access("/usr/bin/docker", os.X_OK):
        return "/usr/bin/docker"
    return shutil.which("docker")


_FORMAT = "{{.Id}}\t{{json .RootFS.Layers}}\t{{json .Config.Env}}"


def _digest(value) -> Optional[str]:
    import hashlib
    import json

    if value is None:
        return None
    return "sha256:" + hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()


class Daemon:
    """Image facts by reference or id, cached for the life of the object: ``id``, ``layers``
    (a digest of the layer diff ids: what BuildKit keys a FROM on) and ``env`` (a digest of
    the image's ENV, which BuildKit hands to every RUN)."""

    def __init__(self, docker: Optional[str]):
        self.docker = docker
        self.reachable: Optional[bool] = None if docker else False
        self.problem = "" if docker else "no docker CLI"
        self._info: dict[str, Optional[dict]] = {}

    def image_ids(self, refs: Iterable[str]) -> dict[str, Optional[str]]:
        """``{ref: image id or None}`` (None: no such image, or no daemon). Check
        ``reachable`` to tell the two apart."""
        return {r: (i or {}).get("id") for r, i in self.image_info(refs).items()}

    def image_info(self, refs: Iterable[str]) -> dict[str, Optional[dict]]:
        refs = [r for r in dict.fromkeys(refs) if r]
        todo = [r for r in refs if r not in self._info]
        if todo and self.reachable is not False:
            self._inspect(todo)
        return {r: self._info.get(r) for r in refs}

    @staticmethod
    def _parse(line: str) -> Optional[dict]:
        parts = line.split("\t", 2)
        if not parts or not parts[0].startswith("sha256:"):
            return None
        import json

        layers = env = None
        try:
            layers = json.loads(parts[1]) if len(parts) > 1 else None
            env = json.loads(parts[2]) if len(parts) > 2 else None
        except ValueError:
            pass
        return {"id": parts[0], "layers": _digest(layers), "env": _digest(env or [])}

    def _inspect(self, refs: list[str]) -> None:
        env = dict(os.environ)
        env.setdefault("DOCKER_CLI_HINTS", "false")
        try:
            proc = subprocess.run(
                [self.docker, "image", "inspect", "--format", _FORMAT, *refs],
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            self.reachable = False
            self.problem = f"docker image inspect timed out after {TIMEOUT:g} s"
            return
        except OSError as exc:
            self.reachable = False
            self.problem = f"cannot run {self.docker}: {exc.strerror or exc}"
            return
        err = proc.stderr.lower()
        if proc.returncode != 0 and any(s in err for s in _UNREACHABLE):
            self.reachable = False
            self.problem = proc.stderr.strip().splitlines()[0] if proc.stderr.strip() else "daemon unreachable"
            return
        infos = [self._parse(line) for line in proc.stdout.splitlines() if line.strip()]
        if proc.returncode == 0 and len(infos) == len(refs):
            self.reachable = True
            for r, i in zip(refs, infos):
                self._info[r] = i
            return
        if proc.returncode != 0 and "no such" not in err:
            self.reachable = False
            self.problem = proc.stderr.strip().splitlines()[0] if proc.stderr.strip() else f"exit code {proc.returncode}"
            return
        self.reachable = True
        # some references are missing: the output does not say which line belongs to which,
        # so ask one at a time (rare: only when something was pruned or never pulled)
        if len(refs) == 1:
            self._info[refs[0]] = infos[0] if infos else None
            return
        for r in refs:
            self._inspect([r])
