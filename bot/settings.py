"""The bot's own settings (`NEWSDESK_DISCORD_*`); the core's settings never hear of Discord."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.errors import ConfigError

PREFIX = "NEWSDESK_DISCORD_"
# Sharding names are not under PREFIX: deploy files set them per process beside NEWSDESK_DATA_DIR.
SHARD_COUNT = "NEWSDESK_SHARD_COUNT"
SHARD_IDS = "NEWSDESK_SHARD_IDS"


def comma_ids(value: object, what: str, example: str) -> object:
    """Accept `123,456` as well as JSON lists, as people write them in .env."""
    if isinstance(value, str):
        try:
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        except ValueError as exc:
            raise ValueError(f"expected {what} separated by commas, e.g. {example}") from exc
    return value


class BotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True, populate_by_name=True)

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
    shard_count: int | None = Field(
        None, ge=1, validation_alias=SHARD_COUNT, description="Gateway shards across all bot processes; "
        "empty = the count Discord recommends (one shard below 1,000 servers).")
    shard_ids: Annotated[list[int] | None, NoDecode] = Field(
        None, validation_alias=SHARD_IDS, description="Shards this process runs, e.g. 0,1 (needs "
        "NEWSDESK_SHARD_COUNT); empty = all of them. Every process reads the same data folder.")

    @field_validator("channels", "qa_channels", mode="before")
    @classmethod
    def _id_list(cls, value: object) -> object:
        return comma_ids(value, "channel ids", "123,456")

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: object) -> object:
        """Empty means every shard."""
        return None if isinstance(value, str) and not value.strip() else comma_ids(value, "shard ids", "0,1")

    @field_validator("shard_ids")
    @classmethod
    def _shards_exist(cls, ids: list[int] | None, info: ValidationInfo) -> list[int] | None:
        """Checked at start, so a wrong deploy file fails in one line instead of at Discord's gateway."""
        if ids is None or "shard_count" not in info.data:  # a bad count is reported on its own
            return ids
        count = info.data["shard_count"]
        if count is None:
            raise ValueError(f"naming the shards this process runs needs the total: set {SHARD_COUNT} "
                             f"(e.g. {SHARD_COUNT}=2 with {SHARD_IDS}=0 here and 1 in the other process)")
        if not ids:
            raise ValueError(f"no shard ids given; list some of 0..{count - 1}, or leave it empty for all")
        for shard in ids:
            if not 0 <= shard < count:
                raise ValueError(f"shard {shard} does not exist: with {SHARD_COUNT}={count} the ids are "
                                 f"0..{count - 1}")
        repeated = sorted({shard for shard in ids if ids.count(shard) > 1})
        if repeated:
            raise ValueError(f"shard(s) {', '.join(map(str, repeated))} listed twice")
        return ids

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
        return BotSettings(_env_file=env_file, **overrides)  # type: ignore[call-arg, arg-type]
    except ValidationError as exc:
        raise ConfigError.invalid(exc, lambda loc: variable(str(loc[0])) if loc else PREFIX) from exc


def variable(field: str) -> str:
    """The environment variable that sets a field (given by name or alias)."""
    alias = BotSettings.model_fields[field].validation_alias if field in BotSettings.model_fields else field
    return str(alias) if alias else PREFIX + field.upper()


def names() -> list[str]:
    """Every environment variable the bot reads."""
    return [variable(name) for name in BotSettings.model_fields]
