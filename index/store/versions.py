"""Versioned rows: every generation of an index lineage shares one SQLite file, each row stamped with the
generation that added it (`born`) and the one that removed it (`died`).

Copying the live database for every re-index cost gigabytes per added article at 1M chunks; here a
re-index writes only the rows it adds and stamps the ones it removes. A connection sees one generation
through TEMP views named like the tables the code queries (`articles`, `chunks`, ...), which SQLite
flattens into the query, so the tables' indexes serve them as before. The writer's views carry INSTEAD OF
triggers that turn its INSERT and DELETE into stamped rows. Rows of an unfinished write (a re-index killed
after the SQLite commit but before CURRENT moved) are invisible to the live generation, whose number is
lower, and are undone by the next writer: old or new, never a mix.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# logical table -> (its columns as the code reads them, the column a new row replaces on, its indexes). Every
# index ends in born, died (and an id where the questions' queries read one), so that a filter's scan stays
# inside the index: a scan that had to visit the rows for their stamps read every article's text per question
# (7 ms at 97k chunks).
TABLES: dict[str, tuple[tuple[str, ...], str | None, tuple[str, ...]]] = {
    "articles": (("id", "title", "outlet", "url", "published", "author", "source", "content_hash", "text_hash",
                  "text"), "id", ("id", "outlet COLLATE NOCASE, id", "published, outlet, id")),
    "chunks": (("id", "article_id", "ordinal", "start", '"end"', "text"), "id", ("id", "article_id, id")),
    "sentences": (("id", "article_id", "start", '"end"', "vector"), "id", ("id", "article_id, start")),
    "speakers": (("article_id", "start", '"end"', "speaker"), None, ("article_id",)),
    "copy_signatures": (("article_id", "signature"), "article_id", ("article_id",)),
    "copy_bands": (("article_id", "band", "hash"), None, ("band, hash", "article_id")),
    "copy_groups": (("article_id", "group_id"), "article_id", ("article_id", "group_id")),
}
# Removing an article removes its rows everywhere (what ON DELETE CASCADE did for one-generation files).
CHILDREN = ("chunks", "sentences", "speakers", "copy_signatures", "copy_bands", "copy_groups")


def _physical(table: str) -> str:
    return f"{table}_rows"


def create(db: sqlite3.Connection) -> None:
    """The tables of a new lineage, and `commits`: the generations whose rows are in the file."""
    statements = ["CREATE TABLE commits (sequence INTEGER PRIMARY KEY)"]
    for table, (columns, _, indexes) in TABLES.items():
        rows = _physical(table)
        statements.append(f"CREATE TABLE {rows} (row INTEGER PRIMARY KEY, {', '.join(columns)}, "
                          "born INTEGER NOT NULL, died INTEGER)")
        statements.extend(f"CREATE INDEX {rows}_{number} ON {rows}({index}, born, died)"
                          for number, index in enumerate(indexes))
        statements.append(f"CREATE INDEX {rows}_died ON {rows}(died) WHERE died IS NOT NULL")
    for statement in statements:
        db.execute(statement)


def _views(db: sqlite3.Connection, visible: str) -> None:
    """TEMP views named like the tables, over the rows `visible` admits."""
    for table, (columns, _, _) in TABLES.items():
        db.execute(f"CREATE TEMP VIEW {table} AS SELECT row, {', '.join(columns)} FROM {_physical(table)} "
                   f"WHERE {visible}")


def show(db: sqlite3.Connection, sequence: int) -> None:
    """Make `db` see generation `sequence`: the rows born at or before it and not removed by then."""
    number = int(sequence)
    _views(db, f"born <= {number} AND (died IS NULL OR died > {number})")


def write_as(db: sqlite3.Connection, sequence: int) -> None:
    """Make `db` write generation `sequence`: inserts are born at it, deletes stamp `died` (or drop a row
    born in this same write)."""
    number = int(sequence)
    visible = f"born <= {number} AND died IS NULL"  # nothing is removed after `number` once `prepare` ran
    _views(db, visible)
    for table, (columns, key, _) in TABLES.items():
        rows = _physical(table)
        replaced = "" if key is None else (
            f"DELETE FROM {rows} WHERE {key} = NEW.{key} AND born = {number}; "
            f"UPDATE {rows} SET died = {number} WHERE {key} = NEW.{key} AND {visible}; ")
        names = [column.strip('"') for column in columns]
        db.execute(f"CREATE TEMP TRIGGER {table}_insert INSTEAD OF INSERT ON {table} BEGIN {replaced}"
                   f"INSERT INTO {rows} ({', '.join(columns)}, born) "
                   f"VALUES ({', '.join(f'NEW.{name}' for name in names)}, {number}); END")
        cascade = "" if table != "articles" else " ".join(
            f"DELETE FROM {_physical(child)} WHERE article_id = OLD.id AND born = {number}; "
            f"UPDATE {_physical(child)} SET died = {number} WHERE article_id = OLD.id AND {visible};"
            for child in CHILDREN)
        db.execute(f"CREATE TEMP TRIGGER {table}_delete INSTEAD OF DELETE ON {table} BEGIN "
                   f"DELETE FROM {rows} WHERE row = OLD.row AND born = {number}; "
                   f"UPDATE {rows} SET died = {number} WHERE row = OLD.row; {cascade} END")


def prepare(db: sqlite3.Connection, live: int, oldest_kept: int) -> None:
    """Before writing generation live + 1: undo what an unfinished write left (rows born or removed after the
    live generation), and drop rows no kept generation can see any more."""
    unfinished = db.execute("SELECT count(*) FROM commits WHERE sequence > ?", (live,)).fetchone()[0]
    for table in TABLES:
        rows = _physical(table)
        if unfinished:
            db.execute(f"DELETE FROM {rows} WHERE born > ?", (live,))
            db.execute(f"UPDATE {rows} SET died = NULL WHERE died > ?", (live,))
        db.execute(f"DELETE FROM {rows} WHERE died IS NOT NULL AND died <= ?", (oldest_kept,))
    db.execute("DELETE FROM commits WHERE sequence > ?", (live,))


def record(db: sqlite3.Connection, sequence: int) -> None:
    db.execute("INSERT OR REPLACE INTO commits VALUES (?)", (sequence,))


def attach_legacy(db: sqlite3.Connection, path: Path) -> None:
    """A one-generation file (formats 2 and 3), read-only beside the lineage; before the write begins, as
    SQLite attaches only outside a transaction."""
    db.execute("ATTACH DATABASE ? AS legacy", (f"file:{path}?mode=ro",))


def import_legacy(db: sqlite3.Connection, sequence: int) -> None:
    """Carry the attached one-generation file's rows into the lineage, born at `sequence`."""
    present = {row[0] for row in db.execute("SELECT name FROM legacy.sqlite_master WHERE type = 'table'")}
    for table, (columns, _, _) in TABLES.items():
        if table in present:
            db.execute(f"INSERT INTO {_physical(table)} ({', '.join(columns)}, born) "
                       f"SELECT {', '.join(columns)}, ? FROM legacy.{table}", (sequence,))
