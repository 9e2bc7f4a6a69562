"""Who may do what, and how often: enforced at run time, not left to Discord's permission hints."""

from __future__ import annotations

import time
from datetime import date

import discord

from index.service import Newsdesk, check_window, parse_day


def is_moderator(member: discord.abc.User, role: str | None) -> bool:
    """Manage Server, or the configured role (by id or by name)."""
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    if not role:
        return False
    return any(str(r.id) == role or r.name == role for r in member.roles)


class Cooldown:
    """Per-user spacing between questions; `retry_after` says how long is left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: dict[int, float] = {}

    def retry_after(self, user_id: int) -> float:
        """0 and the use recorded when allowed; otherwise the seconds still to wait."""
        now = time.monotonic()
        left = self._last.get(user_id, -1e9) + self.seconds - now
        if left > 0:
            return left
        self._last[user_id] = now
        return 0.0


def checked_window(desk: Newsdesk, text: str, since: str | None, until: str | None) -> tuple[date | None, date | None]:
    """The question (or topic) askable and the date window valid, or BadQuestion saying what to fix."""
    desk.clean_question(text)
    window = (parse_day(since, "since"), parse_day(until, "until"))
    check_window(*window)
    return window
