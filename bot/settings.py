"""The bot's own settings (`NEWSDESK_DISCORD_*`); the core's settings never hear of Discord."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.errors import ConfigError

PREFIX = "NEWSDESK_DISCORD_"


class BotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    token: SecretStr | None = Field(None, description="Bot token; never logged.")
    channels: Annotated[list[int], NoDecode] = Field(
        [], description="Channel ids the bot answers in; empty = every channel it can read.")
    qa_channels: Annotated[list[int], NoDecode] = Field(
        [], description="Channels where any question is answered without a mention (needs the "
        "privileged message-content intent).")
    answer_in_thread: bool = Field(False, description="Answer mentions in a new thread.")
    moderator_role: str | None = Field(
        None, description="Role name or id that may re-index and add articles (besides Manage Server).")
    cooldown_seconds: float = Field(10.0, ge=0, description="Per-user pause between questions.")
    max_concurrent: int = Field(4, ge=1, le=64, description="Questions answered at once.")

    @field_validator("channels", "qa_channels", mode="before")
    @classmethod
    def _id_list(cls, value: object) -> object:
        """Accept `123,456` as well as JSON lists, as people write them in .env."""
        if isinstance(value, str):
            try:
                return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
            except ValueError as exc:
                raise ValueError("expected channel ids separated by commas, e.g. 123,456") from exc
        return value

    def secret(self) -> str:
        """The token, or one line saying where to put it."""
        token = self.token.get_secret_value().strip() if self.token else ""
        if not token:
            raise ConfigError("no Discord token: set NEWSDESK_DISCORD_TOKEN in the environment or .env "
                              "(see README, 'Running on Discord')")
        return token


def load_bot_settings(env_file: Path | None = None, **overrides: object) -> BotSettings:
    """From the environment, then `env_file` (the core's choice: `Newsdesk.settings_file()`)."""
    try:
        return BotSettings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError.invalid(exc, lambda loc: PREFIX + str(loc[0]).upper() if loc else PREFIX) from exc


def names() -> list[str]:
    """Every environment variable the bot reads."""
    return [PREFIX + name.upper() for name in BotSettings.model_fields]
