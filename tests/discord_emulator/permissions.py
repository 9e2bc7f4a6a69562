"""Who may see and do what: Discord's permission arithmetic and the message-content intent rule.

Kept apart from the world so the REST rules, interaction delivery and message dispatch all judge
access the same way Discord computes it.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import payloads as p
from .state import GuildState
from .world import World


class Permissions(World):
    """Emulator mixin computing permissions and visibility over the world's state."""

    @property
    def application_flags(self) -> int:
        """GATEWAY_*_LIMITED flags matching the privileged intents enabled in the portal."""
        flags = 1 << 23
        limited = {
            p.INTENT_GUILD_PRESENCES: 1 << 13,
            p.INTENT_GUILD_MEMBERS: 1 << 15,
            p.INTENT_MESSAGE_CONTENT: 1 << 19,
        }
        for intent, flag in limited.items():
            if self.config.privileged_intents & intent:
                flags |= flag
        return flags

    def base_permissions(self, guild: GuildState, user_id: int) -> int:
        """Guild-level permissions: owner and ADMINISTRATOR get everything."""
        if user_id == guild.owner_id:
            return p.ALL_PERMISSIONS
        member = guild.members.get(user_id)
        if member is None:
            return 0
        perms = int(guild.roles[guild.id]['permissions'])
        for rid in member['roles']:
            perms |= int(guild.roles[int(rid)]['permissions'])
        return p.ALL_PERMISSIONS if perms & p.ADMINISTRATOR else perms

    def channel_permissions(self, channel: Mapping[str, Any], user_id: int) -> int:
        """Permissions in a channel after overwrites (threads inherit their parent's)."""
        if channel['type'] == p.DM:
            return p.DEFAULT_EVERYONE_PERMISSIONS
        if channel['type'] in p.THREAD_TYPES:
            channel = self.state.channels[int(channel['parent_id'])]
        guild = self.guild_of(channel)
        assert guild is not None
        perms = self.base_permissions(guild, user_id)
        if perms == p.ALL_PERMISSIONS:
            return perms
        member_roles = set(guild.members.get(user_id, {}).get('roles', []))
        overwrites = channel.get('permission_overwrites') or []
        for ow in overwrites:
            if ow['type'] == 0 and ow['id'] == str(guild.id):
                perms = (perms & ~int(ow['deny'])) | int(ow['allow'])
        allow = deny = 0
        for ow in overwrites:
            if ow['type'] == 0 and ow['id'] in member_roles:
                allow, deny = allow | int(ow['allow']), deny | int(ow['deny'])
        perms = (perms & ~deny) | allow
        for ow in overwrites:
            if ow['type'] == 1 and ow['id'] == str(user_id):
                perms = (perms & ~int(ow['deny'])) | int(ow['allow'])
        return perms if perms & p.VIEW_CHANNEL else 0

    def content_visible(self, msg: Mapping[str, Any], has_intent: bool) -> bool:
        """Message-content intent rule: own messages, DMs and messages mentioning the bot are exempt."""
        bot = str(self.application_id)
        channel = self.state.channels[int(msg['channel_id'])]
        return (
            has_intent
            or msg['author']['id'] == bot
            or channel['type'] == p.DM
            or any(u['id'] == bot for u in msg['mentions'])
        )
