"""Autocomplete lists, shared by the commands that take an outlet or an article."""

from __future__ import annotations

import asyncio

from discord import app_commands

from bot import limits
from bot.render import shorten
from index.service import Newsdesk


async def outlets(desk: Newsdesk, current: str) -> list[app_commands.Choice[str]]:
    wanted = current.lower()
    names = await asyncio.to_thread(desk.outlets)
    return [app_commands.Choice(name=o[:limits.CHOICE_NAME], value=o[:limits.CHOICE_VALUE])
            for o in names if wanted in o.lower()][:limits.CHOICES]


async def articles(desk: Newsdesk, current: str) -> list[app_commands.Choice[str]]:
    """By title or id; values are ids cut to Discord's length (`/source` resolves such a prefix)."""
    items = await asyncio.to_thread(desk.sources)
    wanted = current.lower()
    matches = [s for s in items if wanted in s.label.lower() or wanted in s.article_id.lower()]
    return [app_commands.Choice(name=shorten(f"{s.label} ({s.outlet or 'unknown outlet'})", limits.CHOICE_NAME),
                                value=s.article_id[:limits.CHOICE_VALUE]) for s in matches[:limits.CHOICES]]
