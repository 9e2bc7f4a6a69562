"""Outlets a question names ("a New York Times article", "the report from 'The Verge'"), matched to the
indexed ones: a question about an outlet the index does not carry is not answered from another's."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_WORD = r"[A-Z][\w.&'’-]*"
_NAME = rf"(?:[‘']?(?:The\s+)?{_WORD}(?:\s+(?:{_WORD}|of|and|&))*?[’']?)"
_KIND = r"(?:article|report|piece|story|coverage|reporting|editorial|op-ed|podcast)s?"
# "<Name> article" and "article from/by <Name>"; a name is a run of capitalised words, maybe quoted.
_BEFORE = re.compile(rf"({_NAME})\s+{_KIND}\b")
_AFTER = re.compile(rf"\b{_KIND}\s+(?:from|by)\s+(?:an?\s+|the\s+)?({_NAME})(?=[\s,.;:?!]|$)")
_OPENING = re.compile(r"(?:^|(?<=[\s(\"]))[‘']")
_CLOSING = re.compile(r"[’'](?=[\s,.;:?!)]|$)")
# Capitalised words that open a question or name a time, never an outlet.
_NOT_NAMES = set("""a an the this that another recent does did do is was were are has have had between after
before while and but both when which what who how why according january february march april may june july
august september october november december monday tuesday wednesday thursday friday saturday sunday""".split())


def mentioned(question: str, indexed: Sequence[str] = ()) -> list[str]:
    """Names the question gives to outlets, as written; indexed outlets written out in full are found first
    (so 'The Independent - Life and Style' is not read as an outlet called 'Life and Style')."""
    return list(dict.fromkeys(name for name, _ in occurrences(question, indexed)))


def occurrences(question: str, indexed: Sequence[str] = ()) -> list[tuple[str, int]]:
    """Every place the question names an outlet, as (name as written, offset), indexed outlets written out
    in full first: "the Sporting News report on X ... and the Sporting News report on Y" names two reports."""
    written = {o: _written(o) for o in indexed if o}
    found = [(o, m.start()) for o, pattern in written.items() for m in pattern.finditer(question)]
    rest = question
    for outlet in sorted({o for o, _ in found}, key=len, reverse=True):
        rest = written[outlet].sub(lambda m: " " * len(m.group(0)), rest)
    for pattern in (_BEFORE, _AFTER):
        for match in pattern.finditer(rest):
            if _inside_quotes(question, match.start(1)):
                continue
            words = re.sub(r"(?:['’]s)?[’']?$", "", match.group(1).strip("‘'’ ")).split()
            while words and words[0].lower() in _NOT_NAMES - {"the"}:
                words = words[1:]
            if words and words[-1].lower() not in _NOT_NAMES and _squash(" ".join(words)):
                found.append((" ".join(words), match.start(1)))
    return found


def _inside_quotes(question: str, at: int) -> bool:
    """Whether `at` falls inside a quoted title ("the 'NBA Rookie of the Year Odds' article" does not name an
    outlet called Year Odds); an apostrophe inside or after a word ("Reuters' report") opens nothing."""
    opened = [m.end() for m in _OPENING.finditer(question, 0, at)]
    return bool(opened) and not _CLOSING.search(question, opened[-1], at)


def _written(outlet: str) -> re.Pattern[str]:
    """An outlet's name as a whole phrase, in its own capitals ("The Age", not "the age of 16"; "RT", not
    "report"), allowing a lower-case "the"."""
    body = re.escape(outlet)
    if outlet.startswith("The "):
        body = "[Tt]he " + re.escape(outlet[4:])
    return re.compile(rf"(?<!\w){body}(?!\w)")


def _squash(name: str) -> str:
    """'The Sydney Morning Herald' -> 'sydneymorningherald'; 'CBSSports.com' -> 'cbssportscom'."""
    words = name.lower().split()
    if words and words[0] == "the":
        words = words[1:]
    return re.sub(r"[^0-9a-z]", "", "".join(words))


def resolve(name: str, indexed: Iterable[str]) -> list[str]:
    """The indexed outlets a written name stands for: 'BBC News' is 'BBC News - Entertainment & Arts'."""
    wanted = _squash(name)
    if not wanted:
        return []
    return [outlet for outlet in indexed
            if (squashed := _squash(outlet)) and (squashed.startswith(wanted) or wanted.startswith(squashed))]


def unknown(question: str, indexed: Sequence[str]) -> list[str]:
    """Outlets the question names that no indexed outlet answers to."""
    return [name for name in mentioned(question, indexed) if not resolve(name, indexed)]
