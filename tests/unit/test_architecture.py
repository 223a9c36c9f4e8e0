"""The domain stays pure: no Telegram and no database in bot/domain or content/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = sorted([*(ROOT / "bot" / "domain").glob("*.py"), *(ROOT / "content").glob("*.py")])
FORBIDDEN = (
    "telegram",
    "sqlalchemy",
    "aiosqlite",
    "alembic",
    "storage",
    "bot.app",
    "bot.handlers",
    "bot.runner",
)


@pytest.mark.parametrize("path", PURE, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_pure_modules_import_no_io_layers(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    bad = sorted(m for m in imported if m.startswith(FORBIDDEN))
    assert not bad, f"{path.name} imports {bad}"


def test_there_are_pure_modules() -> None:
    assert len(PURE) >= 5
