"""The seams of the code, checked on its source (docs/architecture.md, docs/adding-a-service.md):

- the layers below the services (protocol, auth, routing, policy, state) import no service, the platform and
  the server; no service imports the server;
- a service reaches another only through `Platform.call` or that service's `api.py`: it imports nothing else
  of another service's package and never asks the platform for another service's provider (only `api.py`
  modules do, for their own service);
- SQL appears only in `store.py` modules and `state/`;
- the server names no service.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from overcast.services import PROVIDERS

PACKAGE = Path(__file__).resolve().parents[2] / "overcast"
SERVICES = PACKAGE / "services"
GROUND = ("protocol", "auth", "routing", "policy", "state")
SQL = re.compile(
    r"^\s*(SELECT\s.+\sFROM\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s+\w+\s*=|DELETE\s+FROM\s|"
    r"CREATE\s+(TABLE|INDEX|UNIQUE)\s|ALTER\s+TABLE\s|DROP\s+(TABLE|INDEX)\s|WITH\s+\w+\s+AS\s)",
    re.I | re.S,
)

# Seams still being mended (each entry names the file and what it still does); the list only shrinks.
KNOWN_SQL: set[str] = set()
KNOWN_REACH_INS: set[tuple[str, str]] = set()


def sources(root: Path = PACKAGE):
    for path in sorted(root.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(), str(path))


def imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def service_package(relative: str) -> str | None:
    parts = relative.split("/")
    return parts[1] if parts[0] == "services" and len(parts) > 2 else None


def docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def strings(tree: ast.AST):
    skip = docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.value
        elif isinstance(node, ast.JoinedStr):
            yield "".join(
                v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )


def test_ground_layers_import_no_service_platform_or_server():
    offenders = []
    for relative, tree in sources():
        if relative.split("/")[0] not in GROUND:
            continue
        for name in imports(tree):
            if name.startswith(("overcast.services", "overcast.server", "overcast.platform")):
                if not _type_only(tree, name):
                    offenders.append((relative, name))
    assert offenders == []


def _type_only(tree: ast.AST, name: str) -> bool:
    """Imports under `if TYPE_CHECKING:` are annotations, not dependencies."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            if name in imports(ast.Module(body=node.body, type_ignores=[])):
                return True
    return False


def test_no_service_imports_the_server():
    offenders = [
        (relative, name)
        for relative, tree in sources(SERVICES)
        for name in imports(tree)
        if name.startswith("overcast.server")
    ]
    assert offenders == []


def test_services_reach_each_other_only_through_calls_and_api_modules():
    packages = {path.name for path in SERVICES.iterdir() if path.is_dir() and path.name not in ("kit",)}
    names = {service: module.split(".")[2] for service, module in PROVIDERS.items()}
    found = set()
    for relative, tree in sources(SERVICES):
        own = service_package(relative)
        if own is None or own == "kit":
            continue
        for name in imports(tree):
            parts = name.split(".")
            if len(parts) > 3 and parts[:2] == ["overcast", "services"] and parts[2] in packages:
                other = parts[2]  # (the package itself names nothing: `from overcast.services.s3 import api`)
                if other != own and parts[3] != "api":
                    found.add((relative, other))
        if relative.endswith("/api.py"):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "provider"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                other = names.get(node.args[0].value, node.args[0].value)
                if other != own:
                    found.add((relative, other))
    assert found - KNOWN_REACH_INS == set(), "reach into another service: use Platform.call or its api.py"
    assert KNOWN_REACH_INS - found == set(), "mended: remove it from KNOWN_REACH_INS"


def test_sql_only_in_store_modules_and_state():
    found = set()
    for relative, tree in sources():
        if relative.startswith("state/") or relative.endswith("store.py"):
            continue
        if any(SQL.match(text) for text in strings(tree)):
            found.add(relative)
    assert found - KNOWN_SQL == set(), "SQL belongs in the service's store.py"
    assert KNOWN_SQL - found == set(), "mended: remove it from KNOWN_SQL"


# Attributes of libraries the server uses whose names happen to be a service's (wsproto's `Connection.events()`).
LIBRARY_ATTRIBUTES = {"events"}


def test_the_server_names_no_service():
    from dataclasses import fields

    from overcast.config import Config

    # The settings (`--iam` is the policy mode, not the IAM service) are the platform's own words.
    services = (set(PROVIDERS) | {"lambda_"}) - {item.name for item in fields(Config)}
    word = re.compile(r"[a-z0-9]+")
    offenders = []
    for relative, tree in sources(PACKAGE / "server"):
        for text in strings(tree):
            hits = services & set(word.findall(text.lower()))
            if hits:
                offenders.append((relative, text, hits))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in LIBRARY_ATTRIBUTES:
                continue
            if isinstance(node, (ast.Name, ast.Attribute, ast.FunctionDef, ast.AsyncFunctionDef)):
                ident = getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "name", "")
                hits = services & set(ident.lower().split("_"))
                if hits:
                    offenders.append((relative, ident, hits))
    assert offenders == []
