"""A user's own data as a zip: one JSON file with everything, and CSVs of sessions and pain scores.

The export is built from the schema itself: every table in ``Base.metadata`` that refers to the user
(the ``users`` row, and every table with a foreign key to ``users.id``) is read with all of its
columns, so a column or table added later is exported without anyone remembering to. A table that
holds nothing about any user must be named in ``NOT_PERSONAL``; ``tests/test_data_rights.py`` fails
for a table that is neither exported nor named there.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, User

Row = dict[str, Any]

SECTIONS: Mapping[str, str] = {"users": "profile", "guided_sessions": "sessions"}
"""The JSON key of a table's rows, where it is not the table's own name."""

NOT_PERSONAL: frozenset[str] = frozenset({"media_files", "instances"})
"""Tables that hold nothing about any user (exercise pictures, the same for everyone; the running
instances of the bot): the only tables the export leaves out."""

DERIVED: Mapping[str, tuple[str, ...]] = {
    "users": ("telegram_user_id",),
    "guided_sessions": ("exercises", "skipped_exercises", "hurt_exercises"),
}
"""Keys the export adds to a table's columns: readable forms of what the stored columns hold."""

CSV_FILES: Mapping[str, str] = {"guided_sessions": "sessions.csv", "pain_scores": "pain_scores.csv"}
CSV_LEFT_OUT: Mapping[str, frozenset[str]] = {"guided_sessions": frozenset({"state"})}
"""Columns too structured for a spreadsheet cell (they are in the JSON)."""


def section(table: Table) -> str:
    return SECTIONS.get(table.name, table.name)


def user_columns(table: Table) -> list[Column[Any]]:
    """The columns of ``table`` that hold a user's id: ``users.id`` itself, or a foreign key to it."""
    users = Base.metadata.tables[User.__tablename__]
    if table is users:
        return [users.c.id]
    return [column for column in table.columns if any(fk.references(users) for fk in column.foreign_keys)]


def personal_tables() -> list[Table]:
    """Every table with rows that belong to a user, in dependency order (``users`` first)."""
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_PERSONAL and user_columns(t)]


async def collect(session: AsyncSession, user_id: int) -> dict[str, list[Row]]:
    """Every row of every personal table that belongs to ``user_id``, keyed by table name."""
    found: dict[str, list[Row]] = {}
    for table in personal_tables():
        condition = user_columns(table)[0] == user_id
        for column in user_columns(table)[1:]:
            condition = condition | (column == user_id)
        query = select(table).where(condition).order_by(*table.primary_key.columns)
        result = await session.execute(query)
        found[table.name] = [dict(row) for row in result.mappings()]
    return found


def _plain(value: Any) -> Any:
    """A JSON-ready form of a stored value."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def _exercise_ids(state: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """A session's exercises, and those skipped and those that hurt, as exercise ids (from its state)."""
    if not isinstance(state, Mapping):
        return [], [], []
    routine = state.get("routine")
    ids = (
        [item.get("id") for item in routine if isinstance(item, Mapping)] if isinstance(routine, list) else []
    )
    machine = state.get("machine")
    machine = machine if isinstance(machine, Mapping) else {}

    def decode(key: str) -> list[Any]:
        indexes = machine.get(key)
        if not isinstance(indexes, list):
            return []
        return [ids[i] for i in indexes if isinstance(i, int) and 0 <= i < len(ids)]

    return ids, decode("skipped"), decode("hurt")


def _with_derived(table: str, row: Row) -> Row:
    out = dict(row)
    if table == "users":
        out["telegram_user_id"] = row.get("id")
    elif table == "guided_sessions":
        out["exercises"], out["skipped_exercises"], out["hurt_exercises"] = _exercise_ids(row.get("state"))
    return out


def build_export(rows: Mapping[str, Sequence[Row]], *, exported_at: datetime) -> bytes:
    """The zip: ``backstretch.json`` (every table's rows, every column) plus two CSVs."""
    document: dict[str, Any] = {"exported_at": _plain(exported_at)}
    tables = personal_tables()
    for table in tables:
        table_rows = [_plain(_with_derived(table.name, row)) for row in rows.get(table.name, ())]
        if table.name == User.__tablename__:
            document[section(table)] = table_rows[0] if table_rows else {}
        else:
            document[section(table)] = table_rows
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("backstretch.json", json.dumps(document, indent=2, ensure_ascii=False, default=str))
        for table in tables:
            if table.name in CSV_FILES:
                archive.writestr(CSV_FILES[table.name], _csv(table, document[section(table)]))
    return buffer.getvalue()


def _csv(table: Table, rows: Iterable[Row]) -> str:
    """A CSV with its header row always (a spreadsheet refuses a file with nothing in it)."""
    left_out = CSV_LEFT_OUT.get(table.name, frozenset())
    fields = [c.name for c in table.columns if c.name not in left_out] + list(DERIVED.get(table.name, ()))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(row.get(key)) for key in fields})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value
