"""The layer rule of docs/architecture.md, checked over every import in src/charter.

- Shared packages form tiers and import only lower tiers (or themselves):
  db < core < auth < http < web. They never import a resource package.
- Resource packages (sessions, results, ...) may import every shared package. Inside a
  package data flows down: routes/pages -> service/read/... -> queries.
- No module imports another package's `queries` (ask that package's service or read
  module), and `queries` modules import only core, db and their own package's queries.
- Web pages never import API route modules, and API routes never import pages.
- Only the entry modules (app, cli, demo, routes, pages) import across freely: they
  wire everything together.
- SQL is built only in db/ and the `queries` modules: nowhere else imports
  sqlalchemy, but for its connection and row types (`sqlalchemy.engine`) and its
  errors (`sqlalchemy.exc`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "charter"

SHARED_TIERS = {"db": 0, "core": 1, "auth": 2, "http": 3, "web": 4}
TOP_LEVEL_SHARED = {"settings", "logs", "__init__"}  # charter/settings.py, charter/logs.py
ENTRY_MODULES = {"app", "cli", "demo", "routes", "pages"}  # charter/<name>.py


def role_of(module: str) -> str:
    """'routes', 'pages', 'queries' or 'logic' (service, read, forms, schemas, ...)."""
    leaf = module.rsplit(".", 1)[-1]
    if leaf == "routes" or leaf.endswith("_routes"):
        return "routes"
    if leaf == "pages" or leaf.endswith("_pages"):
        return "pages"
    if leaf == "queries":
        return "queries"
    return "logic"


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every `charter` import, `from a import b` counted as
    a.b when b is a module."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("charter"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                as_module = SRC.parent / (full.replace(".", "/") + ".py")
                yield node.lineno, full if as_module.exists() else node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("charter"):
                    yield node.lineno, alias.name


def violation(importer: str, imported: str) -> str | None:
    """The rule `importer` breaks by importing `imported`, or None."""
    src_parts, dst_parts = importer.split("."), imported.split(".")
    if len(src_parts) == 2:  # charter/<module>.py
        if src_parts[1] in ENTRY_MODULES:
            return None
        if len(dst_parts) > 2 or dst_parts[1] not in TOP_LEVEL_SHARED:
            return "top-level shared modules import only settings and logs"
        return None
    src_pkg, dst_pkg = src_parts[1], dst_parts[1]
    if len(dst_parts) == 2:  # charter.settings / charter.logs / an entry module
        if dst_parts[1] in ENTRY_MODULES:
            return "only entry modules may import app, cli, demo, routes or pages"
        return None
    if src_pkg in SHARED_TIERS:
        if dst_pkg not in SHARED_TIERS:
            return f"shared package {src_pkg} must not import resource package {dst_pkg}"
        if dst_pkg != src_pkg and SHARED_TIERS[dst_pkg] > SHARED_TIERS[src_pkg]:
            return f"{src_pkg} must not import the higher tier {dst_pkg}"
    src_role, dst_role = role_of(importer), role_of(imported)
    if dst_role == "queries" and dst_pkg != src_pkg and dst_pkg not in ("db",):
        return "no module imports another package's queries: ask its service or read module"
    if src_role == "queries" and dst_pkg not in ("core", "db") and dst_role != "queries":
        return "queries import only core, db and queries"
    if src_role == "logic" and dst_role in ("routes", "pages"):
        return "service/read modules never import routes or pages (data flows down)"
    if src_role == "pages" and dst_role == "routes":
        return "web pages never import API route modules: use http helpers and services"
    if src_role == "routes" and dst_role == "pages":
        return "API routes never import web pages"
    if src_role == "routes" and dst_role == "queries":
        return "routes ask the service or read module, never queries"
    if src_role == "pages" and dst_role == "queries":
        return "pages ask the service or read module, never queries"
    return None


def all_violations() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        importer = ".".join(("charter", *path.relative_to(SRC).with_suffix("").parts))
        importer = importer.removesuffix(".__init__")
        for line, imported in imports_of(path):
            rule = violation(importer, imported)
            if rule:
                found.append(f"{path.relative_to(SRC.parent)}:{line} imports {imported}: {rule}")
    return found


def test_every_import_follows_the_layer_rule() -> None:
    found = all_violations()
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("importer", "imported", "rule"),
    [
        ("charter.sessions.service", "charter.catalog.queries", "another package's queries"),
        ("charter.http.deps", "charter.sessions.service", "must not import resource"),
        ("charter.db.engine", "charter.http.errors", "higher tier"),
        ("charter.sessions.pages", "charter.sessions.routes", "never import API route"),
        ("charter.results.service", "charter.results.routes", "data flows down"),
        ("charter.results.queries", "charter.results.service", "queries import only"),
        ("charter.results.routes", "charter.results.queries", "never queries"),
        ("charter.settings", "charter.sessions.service", "top-level shared"),
    ],
)
def test_the_checker_names_the_rule_a_wrong_import_breaks(
    importer: str, imported: str, rule: str
) -> None:
    message = violation(importer, imported)
    assert message is not None and rule in message


def test_allowed_imports_pass() -> None:
    for importer, imported in [
        ("charter.sessions.routes", "charter.sessions.service"),
        ("charter.sessions.service", "charter.sessions.queries"),
        ("charter.sessions.read", "charter.catalog.read"),
        ("charter.http.deps", "charter.auth.service"),
        ("charter.cli", "charter.sessions.queries"),
    ]:
        assert violation(importer, imported) is None, (importer, imported)


# What modules outside db/ and `queries` may take from sqlalchemy: types and errors.
SQLALCHEMY_OUTSIDE = ("sqlalchemy.engine", "sqlalchemy.exc")


def sqlalchemy_rule(importer: str, imported: str) -> str | None:
    """The rule `importer` breaks by importing the sqlalchemy module `imported`."""
    parts = importer.split(".")
    if parts[1] == "db" or role_of(importer) == "queries":
        return None
    if imported.startswith(SQLALCHEMY_OUTSIDE):
        return None
    return "SQL is built only in db/ and queries modules (sqlalchemy.engine/exc types only)"


def sqlalchemy_imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("sqlalchemy")
        ):
            yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sqlalchemy"):
                    yield node.lineno, alias.name


def test_sql_is_built_only_in_db_and_queries() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        importer = ".".join(("charter", *path.relative_to(SRC).with_suffix("").parts))
        for line, imported in sqlalchemy_imports(path):
            rule = sqlalchemy_rule(importer, imported)
            if rule:
                found.append(f"{path.relative_to(SRC.parent)}:{line} imports {imported}: {rule}")
    assert not found, "\n".join(found)


def test_the_sqlalchemy_rule_names_itself() -> None:
    assert sqlalchemy_rule("charter.sessions.service", "sqlalchemy") is not None
    assert sqlalchemy_rule("charter.sessions.read", "sqlalchemy.sql") is not None
    assert sqlalchemy_rule("charter.sessions.service", "sqlalchemy.engine") is None
    assert sqlalchemy_rule("charter.sessions.queries", "sqlalchemy") is None
    assert sqlalchemy_rule("charter.db.listing", "sqlalchemy.sql.functions") is None
