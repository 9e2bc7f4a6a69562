"""Builders for Discord API v10 JSON objects, shaped the way discord.py 2.7 parses them.

Ids are emitted as strings and timestamps as ISO-8601, exactly as Discord sends them, so
that discord.py's parsers run the same code paths they run in production.
"""

from __future__ import annotations

import datetime
import secrets
import time
from typing import Any, Iterable, Optional

DISCORD_EPOCH_MS = 1420070400000

# Permission bits the emulator reasons about (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_APPLICATION_COMMANDS = 1 << 31
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 53) - 1  # every bit up to PIN_MESSAGES and beyond

DEFAULT_EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
DEFAULT_BOT_PERMISSIONS = DEFAULT_EVERYONE_PERMISSIONS | MANAGE_MESSAGES | CREATE_PRIVATE_THREADS

# Gateway intents (https://discord.com/developers/docs/events/gateway#gateway-intents).
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_MESSAGE_REACTIONS = 1 << 10
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_DIRECT_MESSAGE_REACTIONS = 1 << 13
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# Message flags.
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7

# Channel types.
GUILD_TEXT = 0
DM = 1
GUILD_CATEGORY = 4
GUILD_NEWS = 5
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
GUILD_FORUM = 15
THREAD_TYPES = (10, PUBLIC_THREAD, PRIVATE_THREAD)


class SnowflakeGenerator:
    """Strictly increasing snowflakes whose timestamp part is the real clock, so created_at is sane."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(candidate, self._last + 1)
        return self._last

    def next_on_shard(self, shard_id: int, count: int) -> int:
        """The next snowflake whose millisecond part puts a guild on ``shard_id`` of ``count`` shards."""
        millis = self.next() >> 22
        offset = (shard_id - millis) % count
        if offset:
            self._last = (millis + offset) << 22
        return self._last


def iso(when: Optional[float] = None) -> str:
    """ISO-8601 UTC timestamp as Discord formats it."""
    ts = time.time() if when is None else when
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).isoformat()


def snowflake_time(snowflake: int) -> float:
    """Unix time embedded in a snowflake."""
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


def user(id: int, username: str, *, bot: bool = False, global_name: Optional[str] = None) -> dict[str, Any]:
    """A user object; ``discriminator`` is '0' as for all migrated accounts."""
    return {
        'id': str(id),
        'username': username,
        'discriminator': '0',
        'global_name': global_name,
        'avatar': None,
        'bot': bot,
        'system': False,
        'public_flags': 0,
        'flags': 0,
        'banner': None,
        'accent_color': None,
        'avatar_decoration_data': None,
    }


def role(
    id: int,
    name: str,
    *,
    permissions: int = 0,
    position: int = 0,
    managed: bool = False,
    mentionable: bool = False,
    bot_id: Optional[int] = None,
) -> dict[str, Any]:
    """A role object; the @everyone role shares the guild's id."""
    data: dict[str, Any] = {
        'id': str(id),
        'name': name,
        'color': 0,
        'hoist': False,
        'icon': None,
        'unicode_emoji': None,
        'position': position,
        'permissions': str(permissions),
        'managed': managed,
        'mentionable': mentionable,
        'flags': 0,
    }
    if bot_id is not None:
        data['tags'] = {'bot_id': str(bot_id)}
    return data


def member(
    user_data: dict[str, Any],
    *,
    roles: Iterable[int] = (),
    nick: Optional[str] = None,
    joined_at: Optional[str] = None,
    permissions: Optional[int] = None,
) -> dict[str, Any]:
    """A guild member; ``permissions`` is only present inside interactions."""
    data: dict[str, Any] = {
        'user': user_data,
        'roles': [str(r) for r in roles],
        'nick': nick,
        'avatar': None,
        'joined_at': joined_at or iso(),
        'premium_since': None,
        'deaf': False,
        'mute': False,
        'flags': 0,
        'pending': False,
        'communication_disabled_until': None,
    }
    if permissions is not None:
        data['permissions'] = str(permissions)
    return data


def overwrite(target_id: int, *, is_member: bool = False, allow: int = 0, deny: int = 0) -> dict[str, Any]:
    """A channel permission overwrite (type 0 role, 1 member)."""
    return {'id': str(target_id), 'type': 1 if is_member else 0, 'allow': str(allow), 'deny': str(deny)}


def guild_channel(
    id: int,
    guild_id: int,
    name: str,
    *,
    type: int = GUILD_TEXT,
    position: int = 0,
    parent_id: Optional[int] = None,
    topic: Optional[str] = None,
    permission_overwrites: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A text/news/category/forum channel."""
    data: dict[str, Any] = {
        'id': str(id),
        'type': type,
        'guild_id': str(guild_id),
        'name': name,
        'position': position,
        'permission_overwrites': list(permission_overwrites),
        'parent_id': None if parent_id is None else str(parent_id),
        'topic': topic,
        'nsfw': False,
        'last_message_id': None,
        'rate_limit_per_user': 0,
        'flags': 0,
    }
    if type == GUILD_FORUM:
        data.update(available_tags=[], default_reaction_emoji=None, default_sort_order=None, default_forum_layout=0)
    return data


def thread_channel(
    id: int,
    guild_id: int,
    parent_id: int,
    owner_id: int,
    name: str,
    *,
    type: int = PUBLIC_THREAD,
    auto_archive_duration: int = 1440,
    invitable: bool = True,
) -> dict[str, Any]:
    """A thread channel including the bot's own thread member entry (it joined by creating it)."""
    now = iso()
    return {
        'id': str(id),
        'type': type,
        'guild_id': str(guild_id),
        'parent_id': str(parent_id),
        'owner_id': str(owner_id),
        'name': name,
        'last_message_id': None,
        'rate_limit_per_user': 0,
        'message_count': 0,
        'member_count': 1,
        'total_message_sent': 0,
        'flags': 0,
        'applied_tags': [],
        'thread_metadata': {
            'archived': False,
            'auto_archive_duration': auto_archive_duration,
            'archive_timestamp': now,
            'locked': False,
            'invitable': invitable,
            'create_timestamp': now,
        },
        'member': {'id': str(id), 'user_id': str(owner_id), 'join_timestamp': now, 'flags': 0},
    }


def dm_channel(id: int, recipient: dict[str, Any]) -> dict[str, Any]:
    """A DM channel with one recipient."""
    return {'id': str(id), 'type': DM, 'recipients': [recipient], 'last_message_id': None, 'flags': 0}


def attachment(
    id: int,
    filename: str,
    size: int,
    url: str,
    *,
    content_type: Optional[str] = None,
    description: Optional[str] = None,
) -> dict[str, Any]:
    """An attachment whose ``url`` points at the emulator's own file server."""
    data: dict[str, Any] = {
        'id': str(id),
        'filename': filename,
        'size': size,
        'url': url,
        'proxy_url': url,
        'content_type': content_type,
        'flags': 0,
    }
    if description is not None:
        data['description'] = description
    return data


def message(
    id: int,
    channel_id: int,
    author: dict[str, Any],
    content: str,
    *,
    type: int = 0,
    embeds: Iterable[dict[str, Any]] = (),
    attachments: Iterable[dict[str, Any]] = (),
    components: Iterable[dict[str, Any]] = (),
    mentions: Iterable[dict[str, Any]] = (),
    mention_roles: Iterable[int] = (),
    mention_everyone: bool = False,
    flags: int = 0,
    tts: bool = False,
    message_reference: Optional[dict[str, Any]] = None,
    referenced_message: Optional[dict[str, Any]] = None,
    webhook_id: Optional[int] = None,
    application_id: Optional[int] = None,
    interaction_metadata: Optional[dict[str, Any]] = None,
) -> dict[str, Any]:
    """A message as returned by REST (gateway events add guild_id and member)."""
    data: dict[str, Any] = {
        'id': str(id),
        'channel_id': str(channel_id),
        'author': author,
        'content': content,
        'timestamp': iso(snowflake_time(id)),
        'edited_timestamp': None,
        'tts': tts,
        'mention_everyone': mention_everyone,
        'mentions': list(mentions),
        'mention_roles': [str(r) for r in mention_roles],
        'attachments': list(attachments),
        'embeds': list(embeds),
        'components': list(components),
        'reactions': [],
        'pinned': False,
        'type': type,
        'flags': flags,
    }
    if message_reference is not None:
        data['message_reference'] = message_reference
        data['referenced_message'] = referenced_message
    if webhook_id is not None:
        data['webhook_id'] = str(webhook_id)
    if application_id is not None:
        data['application_id'] = str(application_id)
    if interaction_metadata is not None:
        data['interaction_metadata'] = interaction_metadata
    return data


def application_command_option(
    name: str, type: int, value: Any = None, *, focused: bool = False, options: Optional[list[dict[str, Any]]] = None
) -> dict[str, Any]:
    """An option inside interaction data; subcommands (type 1/2) carry nested ``options``."""
    data: dict[str, Any] = {'name': name, 'type': type}
    if options is not None:
        data['options'] = options
    else:
        data['value'] = value
    if focused:
        data['focused'] = True
    return data


def interaction(
    id: int,
    type: int,
    token: str,
    application_id: int,
    *,
    data: Optional[dict[str, Any]],
    channel: dict[str, Any],
    guild_id: Optional[int],
    member_data: Optional[dict[str, Any]] = None,
    user_data: Optional[dict[str, Any]] = None,
    app_permissions: int = 0,
    locale: str = 'en-US',
    guild_locale: Optional[str] = 'en-US',
    message_data: Optional[dict[str, Any]] = None,
    attachment_size_limit: int = 10 * 1024 * 1024,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload with every field discord.py 2.7 reads."""
    payload: dict[str, Any] = {
        'id': str(id),
        'application_id': str(application_id),
        'type': type,
        'token': token,
        'version': 1,
        'channel': channel,
        'channel_id': channel['id'],
        'app_permissions': str(app_permissions),
        'entitlements': [],
        'locale': locale,
        'attachment_size_limit': attachment_size_limit,
    }
    if data is not None:
        payload['data'] = data
    if guild_id is not None:
        payload.update(
            guild_id=str(guild_id),
            guild={'id': str(guild_id), 'locale': guild_locale or 'en-US', 'features': []},
            guild_locale=guild_locale,
            member=member_data,
            authorizing_integration_owners={'0': str(guild_id)},
            context=0,
        )
    else:
        payload.update(user=user_data, authorizing_integration_owners={'0': '0'}, context=1)
    if message_data is not None:
        payload['message'] = message_data
    return payload


def interaction_token() -> str:
    """An opaque, unique, URL-safe interaction token."""
    return 'aW50ZXJhY3Rpb246' + secrets.token_urlsafe(48)
