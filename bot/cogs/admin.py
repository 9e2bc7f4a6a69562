"""Moderators: /reindex and /add-article. Checked at run time, whatever Discord's command visibility."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import limits
from bot.checks import is_moderator
from bot.render import render_text, shorten
from bot.replies import described
from bot.settings import BotSettings
from index.errors import NewsdeskError, UploadRefused
from index.models import IndexReport
from index.service import Newsdesk

log = logging.getLogger("newsdesk.bot.admin")
EDIT_EVERY = 1.5


def report_text(report: IndexReport) -> str:
    return render_text("Re-index finished.\n```\n" + shorten(report.summary(), limits.REPORT) + "\n```")


class AdminCog(commands.Cog):
    """One re-index at a time from Discord; a second request is told so rather than queued."""

    def __init__(self, desk: Newsdesk, settings: BotSettings) -> None:
        self.desk, self.settings = desk, settings
        self.reindexing = asyncio.Lock()

    async def _refuse_non_moderator(self, interaction: discord.Interaction) -> bool:
        if is_moderator(interaction.user, self.settings.moderator_role):
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

        job = loop.run_in_executor(None, lambda: self.desk.reindex(progress=progress))
        await keep_editing(job)
        try:
            report = await job
        except Exception as exc:  # the status message must not stay at its last stage
            reason = described(exc) if isinstance(exc, NewsdeskError) else "unexpected error (logged)"
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
        if self.reindexing.locked():
            await interaction.response.send_message("A re-index is already running.", ephemeral=True)
            return
        async with self.reindexing:
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
        try:
            self.desk.check_upload(file.filename, file.size)
        except UploadRefused as exc:
            await interaction.response.send_message(render_text(str(exc)), ephemeral=True)
            return
        if self.reindexing.locked():
            await interaction.response.send_message("A re-index is running; try again shortly.", ephemeral=True)
            return
        async with self.reindexing:
            await interaction.response.defer(thinking=True)
            data = await file.read()
            try:
                saved, articles = await asyncio.to_thread(self.desk.add_article, file.filename, data)
            except UploadRefused as exc:
                await interaction.followup.send(render_text(str(exc)))
                return
            log.info("user %s added %s", interaction.user.id, saved)
            try:
                await self._reindex_with_progress(interaction, f"Indexing `{saved}`:")
            except NewsdeskError:
                return
            titles = ", ".join(f"{a.label} ({a.id})" for a in articles[:5])
            await interaction.followup.send(render_text(f"Added {len(articles)} article(s): {titles}"))
