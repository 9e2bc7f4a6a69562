"""Votes on answers, kept beside the index (not inside a generation, so re-indexing keeps them)."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from index.models import Answer

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL, abstained INTEGER NOT NULL,
    article_ids TEXT NOT NULL, generation TEXT NOT NULL, asked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    answer_id INTEGER NOT NULL REFERENCES answers(id), user_id TEXT NOT NULL, vote INTEGER NOT NULL,
    voted_at TEXT NOT NULL, PRIMARY KEY (answer_id, user_id)
);
"""


class FeedbackSummary(BaseModel):
    answers: int
    voted_answers: int
    up: int
    down: int
    worst: list[tuple[str, int]]


class FeedbackStore:
    """One vote per user per answer; the latest vote counts."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def record_answer(self, answer: Answer) -> int:
        article_ids = list(dict.fromkeys(q.article_id for q in answer.quotes))
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO answers (question, abstained, article_ids, generation, asked_at) VALUES (?,?,?,?,?)",
                (answer.question, int(answer.abstained), json.dumps(article_ids), answer.generation,
                 datetime.now(UTC).isoformat()))
        return int(cursor.lastrowid or 0)

    def vote(self, answer_id: int, user_id: int | str, up: bool) -> bool:
        """False when the answer is unknown (e.g. feedback file was reset)."""
        with self._lock, self._db:
            if self._db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return False
            self._db.execute(
                "INSERT INTO votes VALUES (?,?,?,?) ON CONFLICT(answer_id, user_id) "
                "DO UPDATE SET vote = excluded.vote, voted_at = excluded.voted_at",
                (answer_id, str(user_id), 1 if up else -1, datetime.now(UTC).isoformat()))
        return True

    def summary(self, worst: int = 10) -> FeedbackSummary:
        with self._lock:
            answers = self._db.execute("SELECT count(*) FROM answers").fetchone()[0]
            voted, up, down = self._db.execute(
                "SELECT count(DISTINCT answer_id), sum(vote > 0), sum(vote < 0) FROM votes").fetchone()
            rows = self._db.execute(
                "SELECT a.question, sum(v.vote) AS score FROM votes v JOIN answers a ON a.id = v.answer_id "
                "GROUP BY v.answer_id HAVING score < 0 ORDER BY score LIMIT ?", (worst,)).fetchall()
        return FeedbackSummary(answers=answers, voted_answers=voted or 0, up=up or 0, down=down or 0,
                               worst=[(q, s) for q, s in rows])
