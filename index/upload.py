"""An article file sent by a moderator: checked in a private folder, saved under a safe, unused name."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from index.build import duplicate
from index.errors import UploadRefused
from index.ingest import SUFFIXES, read_articles
from index.models import Article

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(filename: str) -> str:
    """A plain file name: no folders, no leading dots, only safe characters."""
    base = _UNSAFE.sub("-", Path(filename.replace("\\", "/")).name).strip(".-")
    stem, suffix = Path(base).stem[:80] or "article", Path(base).suffix.lower()
    return f"{stem}{suffix}"


def check_file(name: str, size: int, max_bytes: int) -> str:
    """The rules that need no content (type, size), so a bad upload is refused before it is downloaded."""
    safe = safe_name(name)
    if Path(safe).suffix not in SUFFIXES:
        raise UploadRefused(f"Refused: `{safe}` is not an accepted type; use one of {', '.join(sorted(SUFFIXES))}.")
    if size > max_bytes:
        raise UploadRefused(f"Refused: the file is {size:,} bytes; the limit is {max_bytes:,}.")
    return safe


def parse(target: Path, data: bytes, max_bytes: int, indexed: list[Article]) -> list[Article]:
    """The articles the file holds, parsed under the name it will be saved as (ids come from it). An id or
    a text already indexed is refused: the re-index would keep one of the two, perhaps the upload in place
    of the old one."""
    name = target.name
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-upload-"))
    try:
        path = folder / name
        path.write_bytes(data)
        articles, rejections = read_articles(path, max_bytes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if rejections or not articles:
        raise UploadRefused(f"Refused `{name}`: {rejections[0].reason if rejections else 'no article found'}.")
    by_id = {a.id: a for a in indexed}
    by_text = {a.text_hash: a for a in indexed}
    for article in articles:
        reason = duplicate(article, by_id, by_text)
        if reason:
            raise UploadRefused(f"Refused `{name}`: {reason}.")
    return articles


def free_path(folder: Path, name: str) -> Path:
    """Never overwrite: a second upload of the same name gets a numbered name."""
    candidate, number = folder / name, 1
    while candidate.exists():
        candidate = folder / f"{Path(name).stem}-{number}{Path(name).suffix}"
        number += 1
    if candidate.resolve().parent != folder.resolve():
        raise UploadRefused("unsafe file name")
    return candidate
