"""A user's own data as a zip: one JSON file with everything, and CSVs of sessions and pain scores."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from storage.models import ExerciseFlag, GuidedSession, PainScore, ReminderDelivery, User


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def build_export(
    user: User,
    sessions: Sequence[GuidedSession],
    scores: Sequence[PainScore],
    reminders: Sequence[ReminderDelivery],
    flags: Sequence[ExerciseFlag],
    *,
    exported_at: datetime,
) -> bytes:
    profile = {
        "telegram_user_id": user.id,
        "chat_id": user.chat_id,
        "first_name": user.first_name,
        "language_code": user.language_code,
        "timezone": user.timezone,
        "created_at": _plain(user.created_at),
        "last_seen_at": _plain(user.last_seen_at),
    }
    session_rows = [
        {
            "id": s.id,
            "local_date": _plain(s.local_date),
            "started_at": _plain(s.started_at),
            "ended_at": _plain(s.ended_at),
            "status": s.status,
            "exercises_total": s.exercises_total,
            "exercises_done": s.exercises_done,
            "counted_for_streak": s.counted,
            "exercises": [item["id"] for item in (s.state or {}).get("routine", [])],
        }
        for s in sessions
    ]
    score_rows = [
        {
            "recorded_at": _plain(p.recorded_at),
            "local_date": _plain(p.local_date),
            "score": p.score,
            "session_id": p.session_id,
        }
        for p in scores
    ]
    document = {
        "exported_at": _plain(exported_at),
        "profile": profile,
        "settings": user.settings or {},
        "reminder": {
            "time": user.reminder_time,
            "next_at": _plain(user.next_reminder_at),
            "break_until": _plain(user.break_until),
            "deliveries": [
                {"local_date": _plain(r.local_date), "status": r.status, "sent_at": _plain(r.sent_at)}
                for r in reminders
            ],
        },
        "exercises_that_hurt": [{"exercise": f.exercise_id, "times": f.hurt_count} for f in flags],
        "sessions": session_rows,
        "pain_scores": score_rows,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("backstretch.json", json.dumps(document, indent=2, ensure_ascii=False))
        archive.writestr("sessions.csv", _csv(session_rows, exclude=frozenset({"exercises"})))
        archive.writestr("pain_scores.csv", _csv(score_rows))
    return buffer.getvalue()


def _csv(rows: list[dict[str, Any]], exclude: frozenset[str] = frozenset()) -> str:
    out = io.StringIO()
    if not rows:
        return ""
    fields = [k for k in rows[0] if k not in exclude]
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
