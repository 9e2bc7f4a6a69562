"""What a user is told when something fails: the request's own problem in its words, anything else in one
apology, with the details in the log only (a server path or a setting is never shown in a channel)."""

from __future__ import annotations

import logging

import discord

from bot.render import render_text
from index.errors import NewsdeskError, UserError

log = logging.getLogger("newsdesk.bot")
APOLOGY = "Sorry, something went wrong while answering. The error has been logged."
UNAVAILABLE = "Answers are unavailable right now; the operator has been told (see the bot's log)."


def described(error: NewsdeskError) -> str:
    """A user error's own words; an operator's error logged and replaced by a notice."""
    if isinstance(error, UserError):
        return str(error)
    log.error("operator attention needed: %s", error)
    return UNAVAILABLE


def explanation(error: NewsdeskError) -> str:
    """`described`, as a reply of its own."""
    text = described(error)
    return render_text(text[:1].upper() + text[1:])


async def apologise(interaction: discord.Interaction, error: BaseException) -> None:
    """For commands and buttons alike: the user gets a short reply, the log the interaction id and the
    traceback (discord.py would log buttons' errors without an id, and leave 'interaction failed')."""
    if isinstance(error, NewsdeskError):
        text = explanation(error)
    else:
        log.error("interaction %s failed: %r", interaction.id, error, exc_info=error)
        text = APOLOGY
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)
