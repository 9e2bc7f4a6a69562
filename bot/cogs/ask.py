"""Questions: mentions and Q&A channels, /ask, and the 👍/👎 feedback on every answer."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import date
from typing import Any, Protocol

import discord
from discord import app_commands
from discord.ext import commands

from bot import choices, limits
from bot.checks import Cooldown, checked_window
from bot.render import Reply, render_answer, render_text, shorten
from bot.replies import APOLOGY, apologise, explanation
from bot.settings import BotSettings
from index.errors import BadQuestion, NewsdeskError
from index.models import Answer
from index.service import Newsdesk

log = logging.getLogger("newsdesk.bot.ask")
NONE = discord.AllowedMentions.none()


class HasDesk(Protocol):
    """The client a button's interaction arrives on: the bot, which holds the desk."""

    desk: Newsdesk


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                     template=r"fb:(?P<vote>up|down):(?P<answer>\d+)"):
    """Persistent across restarts: the answer id lives in the custom id."""

    def __init__(self, vote: str, answer_id: int) -> None:
        super().__init__(discord.ui.Button(
            emoji="👍" if vote == "up" else "👎", style=discord.ButtonStyle.secondary,
            custom_id=f"fb:{vote}:{answer_id}"))
        self.vote, self.answer_id = vote, answer_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> FeedbackButton:
        return cls(match["vote"], int(match["answer"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        client: HasDesk = interaction.client  # type: ignore[assignment]
        try:
            stored = await asyncio.to_thread(client.desk.vote, self.answer_id, interaction.user.id, self.vote == "up")
        except Exception as exc:
            await apologise(interaction, exc)
            return
        text = "Thanks, your vote is recorded." if stored else "That answer is too old to vote on."
        await interaction.response.send_message(text, ephemeral=True)


def feedback_view(answer_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton("up", answer_id))
    view.add_item(FeedbackButton("down", answer_id))
    return view


class AskCog(commands.Cog):
    """Answers run in worker threads, at most `max_concurrent` at once, so the gateway keeps beating."""

    def __init__(self, bot: commands.AutoShardedBot, desk: Newsdesk, settings: BotSettings) -> None:
        self.bot, self.desk, self.settings = bot, desk, settings
        self.cooldown = Cooldown(settings.cooldown_seconds)
        self._questions = asyncio.Semaphore(settings.max_concurrent)

    async def answer(self, question: str, outlets: tuple[str, ...] = (), since: date | None = None,
                     until: date | None = None) -> Answer:
        async with self._questions:
            return await asyncio.to_thread(self.desk.ask, question, outlets, since, until)

    def _answers_in(self, channel: Any) -> bool:
        """NEWSDESK_DISCORD_CHANNELS (empty = everywhere); a thread counts as its parent channel."""
        allowed = self.settings.channels
        return not allowed or channel.id in allowed or getattr(channel, "parent_id", None) in allowed

    def _question_in(self, message: discord.Message) -> str | None:
        """The question a message asks the bot, or None when the bot should stay quiet."""
        me = self.bot.user
        if message.author.bot or me is None or not self._answers_in(message.channel):
            return None
        channel_id = getattr(message.channel, "parent_id", None) or message.channel.id
        # A reply to the bot pings it (message.mentions) without naming it; only a mention written in
        # the message makes it a question, so "thanks!" under an answer is not answered.
        text, mentioned = re.subn(rf"<@!?{me.id}>", " ", message.content)
        text = text.strip()
        if mentioned:
            return text
        if channel_id in self.settings.qa_channels and text.endswith("?"):
            return text
        return None

    async def _send_answer(self, answer: Answer, send: Any) -> None:
        reply, answer_id = await asyncio.to_thread(self._recorded_reply, answer)
        await send(content=reply.content, embeds=reply.embeds, view=feedback_view(answer_id),
                   allowed_mentions=NONE)

    def _recorded_reply(self, answer: Answer) -> tuple[Reply, int]:
        """Rendering rides along with recording the answer, off the event loop the gateway shares."""
        return render_answer(answer, self.desk.prompts), self.desk.record_answer(answer)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        question = self._question_in(message)
        if question is None:
            return
        try:  # a question that cannot be asked costs no cooldown and opens no thread
            question = self.desk.clean_question(question)
        except BadQuestion as exc:
            await self._explain(message, exc)
            return
        wait = self.cooldown.retry_after(message.author.id)
        if wait:
            await message.reply(f"Please wait {wait:.0f} s before asking again.", mention_author=False,
                                allowed_mentions=NONE, delete_after=min(wait, 30))
            return
        try:
            await self._answer_message(message, question)
        except Exception:
            log.exception("answering message %s failed", message.id)
            await message.reply(APOLOGY, mention_author=False, allowed_mentions=NONE)

    @staticmethod
    async def _explain(message: discord.Message, error: NewsdeskError) -> None:
        await message.reply(explanation(error), mention_author=False, allowed_mentions=NONE)

    async def _answer_message(self, message: discord.Message, question: str) -> None:
        try:
            target = await self._answer_target(message, question)
            async with target.typing():
                answer = await self.answer(question)
        except NewsdeskError as exc:
            await self._explain(message, exc)
            return
        if target is message.channel:
            await self._send_answer(answer, lambda **kw: message.reply(mention_author=False, **kw))
        else:
            await self._send_answer(answer, target.send)

    async def _answer_target(self, message: discord.Message, question: str) -> discord.abc.Messageable:
        """A new thread on the question when so configured and possible, else the question's channel."""
        if self.settings.answer_in_thread and isinstance(message.channel, discord.TextChannel):
            try:
                return await message.create_thread(name=shorten(question, limits.THREAD_NAME))
            except discord.HTTPException as exc:  # e.g. no Create Public Threads permission
                log.warning("no thread for message %s (%s); answering in the channel", message.id, exc)
        return message.channel

    @app_commands.command(name="ask")
    @app_commands.describe(question="What do you want to know?", outlet="Only this outlet",
                           since="Only articles published on/after (YYYY-MM-DD)",
                           until="Only articles published on/before (YYYY-MM-DD)")
    async def ask(self, interaction: discord.Interaction, question: str, outlet: str | None = None,
                  since: str | None = None, until: str | None = None) -> None:
        """Ask about the news coverage; the answer quotes the articles word for word."""
        try:
            window = checked_window(self.desk, question, since, until)
        except BadQuestion as exc:
            await interaction.response.send_message(render_text(str(exc)), ephemeral=True)
            return
        if interaction.channel is not None and not self._answers_in(interaction.channel):
            where = ", ".join(f"<#{c}>" for c in self.settings.channels)
            await interaction.response.send_message(f"I answer questions in {where}.", ephemeral=True)
            return
        wait = self.cooldown.retry_after(interaction.user.id)
        if wait:
            await interaction.response.send_message(
                f"Please wait {wait:.0f} s before asking again.", ephemeral=True)
            return
        await interaction.response.defer(thinking=True)
        answer = await self.answer(question, (outlet,) if outlet else (), *window)
        await self._send_answer(answer, interaction.followup.send)

    @ask.autocomplete("outlet")
    async def outlet_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await choices.outlets(self.desk, current)
