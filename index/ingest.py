"""Files -> Article records or Rejections with a reason; one bad file never stops the others."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from dateutil import parser as dateparser
from pydantic import ValidationError

from index.html import extract_html
from index.models import Article, Rejection

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
SUFFIXES = TEXT_SUFFIXES | {".html", ".htm", ".json", ".jsonl"}
FIELDS = ("title", "outlet", "url", "published", "author")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_URL_DATE = re.compile(r"/((?:19|20)\d\d)/(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])(?:/|$)")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")
# Ids are typed in commands and shown in listings; a longer one is cut (front ends may cut further).
ID_MAX = 100


class BadArticle(ValueError):
    """Raised inside the parsers; becomes a Rejection with this message."""


def discover(roots: Iterable[Path]) -> tuple[list[Path], list[Rejection]]:
    """Article files under the roots, sorted; unsupported files are reported, hidden ones ignored."""
    files: list[Path] = []
    rejections: list[Rejection] = []
    for root in roots:
        if root.is_dir():
            candidates = sorted(
                p for p in root.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
            )
        elif root.is_file():
            candidates = [root]
        else:
            rejections.append(Rejection(source=str(root), reason="no such file or folder"))
            continue
        for path in candidates:
            if path.suffix.lower() in SUFFIXES:
                files.append(path)
            else:
                rejections.append(Rejection(
                    source=str(path), reason=f"unsupported file type {path.suffix or '(none)'}; "
                    f"use one of {', '.join(sorted(SUFFIXES))}"))
    return files, rejections


def read_articles(path: Path, max_bytes: int) -> tuple[list[Article], list[Rejection]]:
    """Parse one file; a JSONL file may yield good records and rejected lines together."""
    try:
        suffix = path.suffix.lower()
        raw = path.read_bytes()
        if len(raw) > max_bytes and suffix != ".jsonl":
            raise BadArticle(f"file is {len(raw):,} bytes, over the {max_bytes:,}-byte limit")
        text = _decode(raw)
        if suffix in TEXT_SUFFIXES:
            return [_from_markdown(path, text)], []
        if suffix in {".html", ".htm"}:
            return [_from_html(path, text)], []
        return _from_json(path, text, max_bytes)
    except BadArticle as exc:
        return [], [Rejection(source=str(path), reason=str(exc))]
    except OSError as exc:
        return [], [Rejection(source=str(path), reason=f"cannot read file: {exc.strerror or exc}")]


def _decode(raw: bytes) -> str:
    if b"\x00" in raw:
        raise BadArticle("binary file (contains NUL bytes), not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadArticle(f"not UTF-8 text (byte {exc.start}); re-save the file as UTF-8") from exc
    if not text.strip():
        raise BadArticle("empty file")
    return text


def _from_markdown(path: Path, text: str) -> Article:
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            raise BadArticle(f"broken front matter: {str(exc).splitlines()[0]}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise BadArticle("broken front matter: expected 'key: value' lines")
        meta = loaded or {}
        text = text[match.end():]
    elif text.startswith("---"):
        raise BadArticle("broken front matter: no closing '---' line")
    return _article(meta, text, default_id=path.stem, source=str(path))


def _from_html(path: Path, html: str) -> Article:
    extracted = extract_html(html)
    if extracted is None:
        raise BadArticle("no article text found in the HTML")
    meta, text = extracted
    return _article(meta, text, default_id=path.stem, source=str(path))


def _from_json(path: Path, text: str, max_bytes: int) -> tuple[list[Article], list[Rejection]]:
    """A JSONL corpus may be large; the size limit then applies to each record."""
    records: list[tuple[str, Any]] = []
    if path.suffix.lower() == ".jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                records.append((f"{path}:{number}", _json_line(line, number)))
    else:
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadArticle(f"invalid JSON: {exc.msg} (line {exc.lineno})") from exc
        items = loaded if isinstance(loaded, list) else [loaded]
        records = [(f"{path}:{i}" if len(items) > 1 else str(path), item) for i, item in enumerate(items, 1)]
    articles: list[Article] = []
    rejections: list[Rejection] = []
    for source, record in records:
        try:
            if isinstance(record, BadArticle):
                raise record
            if not isinstance(record, dict):
                raise BadArticle("expected a JSON object with a 'text' field")
            text_value = record.get("text")
            if not isinstance(text_value, str):
                raise BadArticle("record has no 'text' string")
            if len(text_value.encode()) > max_bytes:
                raise BadArticle(f"article text is over the {max_bytes:,}-byte limit")
            default_id = f"{path.stem}-{source.rsplit(':', 1)[-1]}" if ":" in source else path.stem
            record_id = record.get("id") or record.get("doc_id") or default_id
            articles.append(_article(record, text_value, default_id=str(record_id), source=source))
        except BadArticle as exc:
            rejections.append(Rejection(source=source, reason=str(exc)))
    return articles, rejections


def _json_line(line: str, number: int) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        return BadArticle(f"invalid JSON on line {number}: {exc.msg}")


def _article(meta: dict[str, Any], text: str, default_id: str, source: str) -> Article:
    if not text.strip():
        raise BadArticle("article has no text")
    fields = {name: meta.get(name) for name in FIELDS}
    fields["outlet"] = fields["outlet"] or meta.get("source") or meta.get("sitename")
    fields["published"] = parse_date(fields["published"] or meta.get("date"), "published")
    for name in ("title", "outlet", "url", "author"):
        value = fields[name]
        fields[name] = str(value).strip() or None if value is not None else None
    if fields["published"] is None and fields["url"]:
        fields["published"] = date_from_url(fields["url"])
    article_id = _UNSAFE_ID.sub("-", str(meta.get("id") or default_id)).strip("-")[:ID_MAX]
    if not article_id:
        raise BadArticle("cannot derive an article id; add an 'id' field")
    try:
        return Article(id=article_id, text=text, source=source, **fields)
    except ValidationError as exc:
        raise BadArticle(f"invalid metadata: {exc.errors()[0]['msg']}") from exc


def parse_date(value: Any, field: str) -> date | None:
    """Accept YAML dates, ISO strings and common written forms; refuse what cannot be read."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return dateparser.parse(str(value), dayfirst=False).date()
    except (ValueError, OverflowError) as exc:
        raise BadArticle(f"{field}: cannot read a date from {str(value)[:40]!r}") from exc


def date_from_url(url: str) -> date | None:
    """News URLs often carry the publication day (`/2023/04/26/`)."""
    match = _URL_DATE.search(url)
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def read_all(roots: Iterable[Path], max_bytes: int) -> Iterator[tuple[list[Article], list[Rejection]]]:
    """Every file's outcome, in a stable order; discovery problems come first."""
    files, rejections = discover(roots)
    if rejections:
        yield [], rejections
    for path in files:
        yield read_articles(path, max_bytes)
