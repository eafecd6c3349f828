"""The docs that are generated from code are up to date."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_routes_doc_lists_every_route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("routes_doc", ROOT / "scripts" / "routes_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "OUT", tmp_path / "routes.md")
    module.main()
    committed = (ROOT / "docs" / "routes.md").read_text()
    assert (tmp_path / "routes.md").read_text() == committed, (
        "docs/routes.md is stale: run python scripts/routes_doc.py"
    )
