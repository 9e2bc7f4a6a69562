"""`newsdesk run` and `newsdesk sync`, added to the core's command line (the core never imports Discord)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import discord
import typer

from bot.app import NewsdeskBot
from index import cli as core_cli
from index.config import Settings, load_settings
from index.errors import ConfigError
from index.feedback import FeedbackStore
from index.service import Newsdesk

app = core_cli.app
log = logging.getLogger("newsdesk.bot")


def build_bot(settings: Settings, desk: Newsdesk | None = None, **options: object) -> NewsdeskBot:
    desk = desk or Newsdesk(settings)
    return NewsdeskBot(desk, settings, FeedbackStore(settings.data_dir / "feedback.sqlite"), **options)


def _token(settings: Settings) -> str:
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        raise ConfigError("no Discord token: set NEWSDESK_DISCORD_TOKEN in the environment or .env "
                          "(see README, 'Running on Discord')")
    return settings.discord_token.get_secret_value().strip()


@app.command()
def run() -> None:
    """Start the Discord bot (loads the index and warms the model first)."""
    settings = load_settings()
    token = _token(settings)
    desk = Newsdesk(settings)
    if desk.ensure_index() is None:
        desk.generation()
    desk.embedder.encode(["warm up"])
    status = desk.status()
    log.warning("index %s: %d articles, %d chunks; starting the bot", status.generation, status.articles,
                status.chunks)
    serve(build_bot(settings, desk), token)


def serve(bot: NewsdeskBot, token: str) -> None:
    """Run until stopped; what Discord refuses at connect time becomes one line saying what to change."""
    try:
        bot.run(token, log_handler=None)
    except discord.LoginFailure as exc:
        raise ConfigError("Discord refused the token; check NEWSDESK_DISCORD_TOKEN") from exc
    except discord.PrivilegedIntentsRequired as exc:
        raise ConfigError("Q&A channels need the Message Content intent: switch it on in the Discord Developer "
                          "Portal (Bot > Privileged Gateway Intents), or unset NEWSDESK_DISCORD_QA_CHANNELS") from exc


@app.command()
def sync(guild: Annotated[int | None, typer.Option(help="Sync to one server (instant) instead of globally.")] = None
         ) -> None:
    """Register the slash commands with Discord (run after changing commands)."""
    settings = load_settings()
    token = _token(settings)

    async def go() -> int:
        bot = build_bot(settings)
        async with bot:
            await bot.login(token)
            target = discord.Object(id=guild) if guild else None
            if target:
                bot.tree.copy_global_to(guild=target)
            return len(await bot.tree.sync(guild=target))

    count = asyncio.run(go())
    core_cli.out.print(f"synced {count} commands {'to guild ' + str(guild) if guild else 'globally'}")


def main() -> None:
    core_cli.main()
