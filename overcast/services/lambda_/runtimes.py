"""Which program runs a function: Lambda runtime identifiers mapped to interpreters on this machine.

Python runs under AWS's runtime interface client (awslambdaric), Node.js under our bootstrap.js, and the
OS-only runtimes (provided.al2, provided.al2023) run the function's own `bootstrap` executable. A Python
runtime runs on the interpreter of its version when one with awslambdaric is installed; otherwise on the
server's own interpreter, and the function's log says so.
"""

from __future__ import annotations

import glob
import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BOOTSTRAP_JS = str(Path(__file__).with_name("bootstrap.js"))
PYTHON_RUNTIMES = {f"python3.{minor}" for minor in range(8, 15)}
NODE_RUNTIMES = {f"nodejs{major}.x" for major in range(16, 25, 2)}
PROVIDED_RUNTIMES = {"provided", "provided.al2", "provided.al2023"}
SUPPORTED = PYTHON_RUNTIMES | NODE_RUNTIMES | PROVIDED_RUNTIMES
_PROBE = "import sys, awslambdaric.lambda_runtime_client as c; assert c.runtime_client; print(sys.version.split()[0])"


class RuntimeUnavailable(Exception):
    """The runtime cannot run on this machine; the message says why."""


@dataclass(frozen=True)
class Interpreter:
    runtime: str
    kind: str  # python | node | provided
    executable: str
    version: str
    note: str = ""  # set when the runtime does not run on the interpreter it names


@cache
def resolve(runtime: str) -> Interpreter:
    """The interpreter for `runtime` (probed once per server process; a blocking call, run off the loop)."""
    if runtime in PYTHON_RUNTIMES:
        return _python(runtime)
    if runtime in NODE_RUNTIMES:
        node = shutil.which("node")
        if not node:
            raise RuntimeUnavailable(f"The runtime {runtime} needs Node.js: no `node` on the server's PATH")
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        wanted = runtime.removeprefix("nodejs").removesuffix(".x")
        note = (
            ""
            if version.lstrip("v").startswith(wanted + ".")
            else f"{runtime} runs on Node.js {version} ({node})"
        )
        return Interpreter(runtime, "node", node, version, note)
    if runtime in PROVIDED_RUNTIMES:
        return Interpreter(runtime, "provided", "", "")
    raise RuntimeUnavailable(
        f"The runtime {runtime} is not available in Overcast: it runs python3.x, nodejs*.x and provided.al2/al2023"
    )


def _python(runtime: str) -> Interpreter:
    version = runtime.removeprefix("python")
    for candidate in _python_candidates(version):
        found = _probe(candidate)
        if found and found.startswith(version + "."):
            return Interpreter(runtime, "python", candidate, found)
    current = sys.version.split()[0]
    note = (
        f"{runtime} runs on Python {current} ({sys.executable}): no Python {version} with awslambdaric is "
        f"installed (pip install awslambdaric into it to use it)"
    )
    return Interpreter(
        runtime, "python", sys.executable, current, "" if current.startswith(version + ".") else note
    )


def _python_candidates(version: str) -> list[str]:
    found = [sys.executable] if sys.version.startswith(version + ".") else []
    on_path = shutil.which(f"python{version}")
    if on_path:
        found.append(on_path)
    # pyenv shims fail unless the version is selected, so look at pyenv's installs directly
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found += sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"), reverse=True)
    found += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    return [path for path in dict.fromkeys(found) if os.access(path, os.X_OK)]


def _probe(executable: str) -> str | None:
    try:
        done = subprocess.run([executable, "-c", _PROBE], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def command(
    interpreter: Interpreter, handler: str, task_root: str, layer_dirs: list[str], memory_mb: int = 128
) -> list[str]:
    """The command line that starts the runtime (its working directory is the task root)."""
    if interpreter.kind == "python":
        return [interpreter.executable, "-m", "awslambdaric", handler]
    if interpreter.kind == "node":
        # V8's heap sized from the function's memory as AWS's Node.js bootstrap does: a tenth for the young
        # generation (two semi-spaces), the rest for the old one
        young = max(memory_mb // 10, 2)
        return [
            interpreter.executable,
            f"--max-semi-space-size={max(young // 2, 1)}",
            f"--max-old-space-size={memory_mb - young}",
            BOOTSTRAP_JS,
        ]
    for root in [task_root, *reversed(layer_dirs)]:  # the function's own bootstrap, else a layer's (/opt)
        bootstrap = Path(root) / "bootstrap"
        if bootstrap.is_file():
            return [str(bootstrap)]
    raise RuntimeUnavailable("Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]")


def search_path_env(interpreter: Interpreter, task_root: str, layer_dirs: list[str]) -> dict[str, str]:
    """Layers stand in for /opt: later layers win, as when AWS extracts them over each other into /opt."""
    layers = list(reversed(layer_dirs))
    path = [f"{d}/bin" for d in layers] + [os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")]
    env = {"PATH": os.pathsep.join(path), "LAMBDA_TASK_ROOT": task_root, "LAMBDA_RUNTIME_DIR": task_root}
    libs = [f"{d}/lib" for d in layers]
    if libs:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(libs)
    if interpreter.kind == "python":
        minor = interpreter.runtime.removeprefix("python")
        python_path = [task_root]
        for d in layers:
            python_path += [f"{d}/python", f"{d}/python/lib/python{minor}/site-packages"]
        env["PYTHONPATH"] = os.pathsep.join(python_path)
    elif interpreter.kind == "node":
        major = interpreter.runtime.removeprefix("nodejs").removesuffix(".x")
        node_path = []
        for d in layers:
            node_path += [f"{d}/nodejs/node{major}/node_modules", f"{d}/nodejs/node_modules"]
        node_path.append(f"{task_root}/node_modules")
        env["NODE_PATH"] = os.pathsep.join(node_path)
    return env


def memory_rlimit(interpreter: Interpreter, memory_mb: int) -> tuple[int, int]:
    """The rlimit that holds a runtime process to its function's memory, and its value in bytes.

    CPython and shells: RLIMIT_AS, with room for the interpreter's own mappings. Node.js: V8 reserves
    gigabytes of address space it never touches, so RLIMIT_DATA (the private writable memory really
    committed: heap pages, Buffers, thread stacks), with room for node's own ~50 MB; the V8 heap itself is
    bounded by `--max-old-space-size` (see `command`)."""
    if interpreter.kind == "node":
        return resource.RLIMIT_DATA, (memory_mb + 128) << 20
    return resource.RLIMIT_AS, (memory_mb + 256) << 20
