"""Moderators: /reindex and /add-article. Checked at run time, whatever Discord's command visibility."""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import is_moderator
from bot.render import render_text, shorten
from index.errors import NewsdeskError
from index.ingest import SUFFIXES, read_articles
from index.models import Article, IndexReport, Rejection
from index.terminal import format_report

if TYPE_CHECKING:
    from bot.app import NewsdeskBot

log = logging.getLogger("newsdesk.bot.admin")
EDIT_EVERY = 1.5
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(filename: str) -> str:
    """A plain file name: no folders, no leading dots, only safe characters."""
    base = _UNSAFE.sub("-", Path(filename.replace("\\", "/")).name).strip(".-")
    stem, suffix = Path(base).stem[:80] or "article", Path(base).suffix.lower()
    return f"{stem}{suffix}"


def report_text(report: IndexReport) -> str:
    return render_text("Re-index finished.\n```\n" + shorten(format_report(report), 1800) + "\n```")


class AdminCog(commands.Cog):
    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot

    async def _refuse_non_moderator(self, interaction: discord.Interaction) -> bool:
        if is_moderator(interaction.user, self.bot.settings.discord_moderator_role):
            return False
        log.warning("refused %s for user %s (not a moderator)",
                    interaction.command.name if interaction.command else "?", interaction.user.id)
        await interaction.response.send_message("Only moderators can do that.", ephemeral=True)
        return True

    async def _reindex_with_progress(self, interaction: discord.Interaction, intro: str) -> IndexReport:
        """Runs in a worker thread; one status message is edited as stages advance."""
        message = await interaction.followup.send(f"{intro} starting…", wait=True)
        state = {"text": f"{intro} reading files…"}
        loop = asyncio.get_running_loop()

        def progress(stage: str, done: int, total: int) -> None:
            state["text"] = f"{intro} {stage}: {done}/{total}"

        async def keep_editing(job: asyncio.Future[IndexReport]) -> None:
            shown = ""
            while not job.done():
                if state["text"] != shown:
                    shown = state["text"]
                    await message.edit(content=shown)
                await asyncio.wait({job}, timeout=EDIT_EVERY)

        job = loop.run_in_executor(None, lambda: self.bot.desk.reindex(progress=progress))
        await keep_editing(job)
        try:
            report = await job
        except Exception as exc:  # the status message must not stay at its last stage
            reason = exc if isinstance(exc, NewsdeskError) else "unexpected error (logged)"
            await message.edit(content=render_text(f"Re-index failed: {reason}"))
            raise
        await message.edit(content=report_text(report))
        return report

    @app_commands.command(name="reindex")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def reindex(self, interaction: discord.Interaction) -> None:
        """Re-index the seeds and the articles folder (moderators)."""
        if await self._refuse_non_moderator(interaction):
            return
        if self.bot.reindexing.locked():
            await interaction.response.send_message("A re-index is already running.", ephemeral=True)
            return
        async with self.bot.reindexing:
            await interaction.response.defer(thinking=True)
            try:
                await self._reindex_with_progress(interaction, "Re-indexing:")
            except NewsdeskError:
                return

    @app_commands.command(name="add-article")
    @app_commands.describe(file="An article file: .md, .txt, .html, .json or .jsonl")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def add_article(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        """Add an article file to the coverage and index it (moderators)."""
        if await self._refuse_non_moderator(interaction):
            return
        settings = self.bot.settings
        name = safe_name(file.filename)
        problem = None
        if Path(name).suffix not in SUFFIXES:
            problem = f"`{name}` is not an accepted type; use one of {', '.join(sorted(SUFFIXES))}."
        elif file.size > settings.max_file_bytes:
            problem = f"the file is {file.size:,} bytes; the limit is {settings.max_file_bytes:,}."
        if problem:
            await interaction.response.send_message(render_text(f"Refused: {problem}"), ephemeral=True)
            return
        if self.bot.reindexing.locked():
            await interaction.response.send_message("A re-index is running; try again shortly.", ephemeral=True)
            return
        async with self.bot.reindexing:
            await interaction.response.defer(thinking=True)
            data = await file.read()
            target = _free_path(settings.articles_path, name)
            articles, problem = await asyncio.to_thread(self._check_upload, target.name, data)
            if problem:
                await interaction.followup.send(render_text(f"Refused `{name}`: {problem}."))
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(target.write_bytes, data)
            log.info("user %s added %s", interaction.user.id, target.name)
            try:
                await self._reindex_with_progress(interaction, f"Indexing `{target.name}`:")
            except NewsdeskError:
                return
            titles = ", ".join(f"{a.label} ({a.id})" for a in articles[:5])
            await interaction.followup.send(render_text(f"Added {len(articles)} article(s): {titles}"))

    def _check_upload(self, name: str, data: bytes) -> tuple[list[Article], str | None]:
        """Parsed under the name it will be saved as (ids come from it). An id or a text already indexed
        is refused: the re-index would keep one of the two, possibly the upload in place of the old one."""
        articles, rejections = _validate(name, data, self.bot.settings.max_file_bytes)
        if rejections or not articles:
            return [], rejections[0].reason if rejections else "no article found"
        indexed = [a for a, _ in self.bot.desk.generation().articles()]
        ids, texts = {a.id for a in indexed}, {a.text_hash: a.id for a in indexed}
        for article in articles:
            if article.id in ids:
                return [], f"id {article.id!r} is already indexed; rename the file or give the article another id"
            if article.text_hash in texts:
                return [], f"the same text is already indexed as {texts[article.text_hash]!r}"
        return articles, None


def _validate(name: str, data: bytes, max_bytes: int) -> tuple[list[Article], list[Rejection]]:
    """Parse the upload in a private folder before it can reach the articles directory."""
    folder = Path(tempfile.mkdtemp(prefix="newsdesk-upload-"))
    try:
        path = folder / name
        path.write_bytes(data)
        return read_articles(path, max_bytes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _free_path(folder: Path, name: str) -> Path:
    """Never overwrite: a second upload of the same name gets a numbered name."""
    candidate, number = folder / name, 1
    while candidate.exists():
        candidate = folder / f"{Path(name).stem}-{number}{Path(name).suffix}"
        number += 1
    resolved = candidate.resolve()
    if resolved.parent != folder.resolve():
        raise ValueError("unsafe file name")
    return candidate
