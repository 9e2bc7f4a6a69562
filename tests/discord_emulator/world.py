"""The emulated world: users, guilds, roles, members, channels, DMs and CDN attachments.

Tests build their scenario here (the ``*_sync`` variants before the bot connects, the async ones
dispatch the matching gateway event), and the REST and gateway sides read the same state.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional, Union

from . import payloads as p
from .state import EmulatorConfig, EmulatorState, GuildState, StoredFile

if TYPE_CHECKING:
    from .gateway import GatewaySession

UserRef = Union[int, Mapping[str, Any]]


def id_of(ref: UserRef) -> int:
    """The id of a user (or channel, role) given either as an id or as its payload."""
    return int(ref['id']) if isinstance(ref, Mapping) else int(ref)


class World(abc.ABC):
    """Emulator mixin owning the world; the server supplies the event dispatch and the CDN's URL."""

    config: EmulatorConfig  # set by Emulator.__init__
    state: EmulatorState  # set by Emulator.__init__
    snowflakes: p.SnowflakeGenerator  # set by Emulator.__init__
    # Set by _build_world: the bot and the default scenario tests refer to.
    bot_user: dict[str, Any]
    application_id: int
    owner: dict[str, Any]
    alice: dict[str, Any]
    guild_id: int
    channel_id: int

    @property
    @abc.abstractmethod
    def http_url(self) -> str:
        """Base URL of the CDN that serves attachments (known once the server is bound)."""

    @abc.abstractmethod
    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to the sessions allowed to see it."""

    def _build_world(self) -> None:
        """A guild with an owner (Admin), a plain member, the bot (managed role) and two text channels."""
        self.bot_user = self.add_user(self.config.bot_name, bot=True)
        self.application_id = int(self.bot_user['id'])
        self.owner = self.add_user('owner')
        self.alice = self.add_user('alice')
        guild = self.add_guild(self.config.guild_name, self.owner)
        self.guild_id = guild.id
        self.add_role_sync(guild.id, 'Admin', permissions=p.ADMINISTRATOR)
        self.channel_id = int(self.add_channel_sync(guild.id, 'general')['id'])
        self.add_channel_sync(guild.id, 'news')
        self.add_member_sync(guild.id, self.owner, roles=[self.role_id('Admin')])
        self.add_member_sync(guild.id, self.alice)

    def add_user(self, username: str, *, bot: bool = False) -> dict[str, Any]:
        """Create a user account (not a guild member)."""
        data = p.user(self.snowflakes.next(), username, bot=bot)
        self.state.users[int(data['id'])] = data
        return data

    def add_guild(self, name: str, owner: UserRef, *, shard: Optional[tuple[int, int]] = None) -> GuildState:
        """Create a guild with @everyone, the bot's managed role and the bot as member (before connect);
        ``shard=(id, count)`` picks an id that Discord's formula places on that shard."""
        gid = self.snowflakes.next() if shard is None else self.snowflakes.next_on_shard(*shard)
        roles = {gid: p.role(gid, '@everyone', permissions=p.DEFAULT_EVERYONE_PERMISSIONS)}
        guild = GuildState(id=gid, name=name, owner_id=id_of(owner), roles=roles, members={}, joined_at=p.iso())
        self.state.guilds[gid] = guild
        bot_role = self.add_role_sync(
            gid, self.config.bot_name, permissions=p.DEFAULT_BOT_PERMISSIONS, bot_id=self.application_id
        )
        self.add_member_sync(gid, self.bot_user, roles=[int(bot_role['id'])])
        return guild

    def add_guild_on_shard(self, shard_id: int, count: int, name: str = 'Second') -> tuple[int, int]:
        """Another guild like the default one (``owner`` an Admin, alice a member, a #general channel) whose
        id Discord's formula places on ``shard_id`` of ``count``; returns (guild id, channel id)."""
        guild = self.add_guild(name, self.owner, shard=(shard_id, count))
        admin = int(self.add_role_sync(guild.id, 'Admin', permissions=p.ADMINISTRATOR)['id'])
        self.add_member_sync(guild.id, self.owner, roles=[admin])
        self.add_member_sync(guild.id, self.alice)
        return guild.id, int(self.add_channel_sync(guild.id, 'general')['id'])

    def add_role_sync(
        self, guild_id: int, name: str, *, permissions: int = 0, bot_id: Optional[int] = None
    ) -> dict[str, Any]:
        """Create a role without dispatching (for setup before the bot connects)."""
        guild = self.state.guilds[guild_id]
        rid = self.snowflakes.next()
        guild.roles[rid] = p.role(
            rid, name, permissions=permissions, position=len(guild.roles), managed=bot_id is not None, bot_id=bot_id
        )
        return guild.roles[rid]

    async def add_role(self, guild_id: int, name: str, *, permissions: int = 0) -> dict[str, Any]:
        """Create a role and dispatch GUILD_ROLE_CREATE."""
        data = self.add_role_sync(guild_id, name, permissions=permissions)
        await self.dispatch('GUILD_ROLE_CREATE', {'guild_id': str(guild_id), 'role': data})
        return data

    def add_member_sync(self, guild_id: int, user: UserRef, *, roles: Iterable[int] = ()) -> dict[str, Any]:
        """Add a guild member without dispatching."""
        guild = self.state.guilds[guild_id]
        data = p.member(self.state.users[id_of(user)], roles=roles)
        guild.members[id_of(user)] = data
        return data

    async def add_member(self, guild_id: int, user: UserRef, *, roles: Iterable[int] = ()) -> dict[str, Any]:
        """Add a guild member and dispatch GUILD_MEMBER_ADD (needs the members intent)."""
        data = self.add_member_sync(guild_id, user, roles=roles)
        await self.dispatch('GUILD_MEMBER_ADD', {**data, 'guild_id': str(guild_id)})
        return data

    def add_channel_sync(
        self,
        guild_id: int,
        name: str,
        *,
        type: int = p.GUILD_TEXT,
        parent_id: Optional[int] = None,
        overwrites: Iterable[dict[str, Any]] = (),
    ) -> dict[str, Any]:
        """Create a guild channel without dispatching."""
        position = sum(1 for c in self.state.channels.values() if c.get('guild_id') == str(guild_id))
        data = p.guild_channel(
            self.snowflakes.next(),
            guild_id,
            name,
            type=type,
            position=position,
            parent_id=parent_id,
            permission_overwrites=overwrites,
        )
        self.state.channels[int(data['id'])] = data
        return data

    async def add_channel(self, guild_id: int, name: str, **kwargs: Any) -> dict[str, Any]:
        """Create a guild channel and dispatch CHANNEL_CREATE."""
        data = self.add_channel_sync(guild_id, name, **kwargs)
        await self.dispatch('CHANNEL_CREATE', data)
        return data

    def add_attachment(self, filename: str, data: bytes, content_type: Optional[str] = None) -> dict[str, Any]:
        """Store bytes on the emulator's CDN and return an attachment payload pointing at it."""
        aid = self.snowflakes.next()
        self.state.files[aid] = StoredFile(filename, data, content_type)
        url = f'{self.http_url}/attachments/{aid}/{filename}'
        return p.attachment(aid, filename, len(data), url, content_type=content_type)

    def open_dm(self, user: UserRef) -> dict[str, Any]:
        """The DM channel between the bot and ``user`` (created on first use)."""
        uid = id_of(user)
        for channel in self.state.channels.values():
            if channel['type'] == p.DM and channel['recipients'][0]['id'] == str(uid):
                return channel
        data = p.dm_channel(self.snowflakes.next(), self.state.users[uid])
        self.state.channels[int(data['id'])] = data
        return data

    def role_id(self, name: str, guild_id: Optional[int] = None) -> int:
        """Id of the role called ``name``."""
        guild = self.state.guilds[guild_id or self.guild_id]
        return next(rid for rid, r in guild.roles.items() if r['name'] == name)

    def find_channel(self, name: str, guild_id: Optional[int] = None) -> dict[str, Any]:
        """The guild channel called ``name``."""
        gid = str(guild_id or self.guild_id)
        return next(c for c in self.state.channels.values() if c.get('guild_id') == gid and c.get('name') == name)

    def guild_of(self, channel: Mapping[str, Any]) -> Optional[GuildState]:
        """The guild a channel belongs to (None for DMs)."""
        gid = channel.get('guild_id')
        return None if gid is None else self.state.guilds.get(int(gid))

    def guild_payload(self, guild_id: int) -> dict[str, Any]:
        """The guild object as REST returns it."""
        guild = self.state.guilds[guild_id]
        return {
            'id': str(guild.id),
            'name': guild.name,
            'icon': None,
            'splash': None,
            'discovery_splash': None,
            'owner_id': str(guild.owner_id),
            'afk_channel_id': None,
            'afk_timeout': 300,
            'verification_level': 0,
            'default_message_notifications': 1,
            'explicit_content_filter': 0,
            'roles': list(guild.roles.values()),
            'emojis': [],
            'stickers': [],
            'features': [],
            'mfa_level': 0,
            'application_id': None,
            'system_channel_id': None,
            'system_channel_flags': 0,
            'rules_channel_id': None,
            'public_updates_channel_id': None,
            'max_members': 500000,
            'vanity_url_code': None,
            'description': None,
            'banner': None,
            'premium_tier': 0,
            'premium_subscription_count': 0,
            'preferred_locale': guild.locale,
            'nsfw_level': 0,
            'premium_progress_bar_enabled': False,
        }

    def guild_create_payload(self, guild_id: int, session: GatewaySession) -> dict[str, Any]:
        """GUILD_CREATE as a session with the given intents receives it (other members need GUILD_MEMBERS)."""
        guild = self.state.guilds[guild_id]
        members = list(guild.members.values())
        if not session.has(p.INTENT_GUILD_MEMBERS):
            members = [guild.members[self.application_id]]
        channels = [c for c in self.state.channels.values() if c.get('guild_id') == str(guild_id)]
        return {
            **self.guild_payload(guild_id),
            'joined_at': guild.joined_at,
            'large': False,
            'unavailable': False,
            'member_count': len(guild.members),
            'voice_states': [],
            'members': members,
            'channels': [c for c in channels if c['type'] not in p.THREAD_TYPES],
            'threads': [c for c in channels if c['type'] in p.THREAD_TYPES],
            'presences': [],
            'stage_instances': [],
            'guild_scheduled_events': [],
            'soundboard_sounds': [],
        }
