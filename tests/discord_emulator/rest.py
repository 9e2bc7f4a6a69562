"""REST API v10 routes, answered the way Discord answers them (status codes, error bodies, headers).

Responses carry ``Content-Type: application/json`` with no charset: discord.py only decodes JSON
when the header equals that string exactly.
"""

from __future__ import annotations

import hashlib
import json
import math
import mimetypes
import re
import time
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, Optional

from aiohttp import web

from . import payloads as p
from . import rules
from .state import CallbackRecord, Fault, GuildState, InteractionRecord, RestCall, UploadedFile

if TYPE_CHECKING:
    from .server import Emulator

API_PREFIX = '/api/v10'
UNAUTHENTICATED = re.compile(r'/interactions/.*|/webhooks/\d+/[^/]+(/.*)?|/gateway(/bot)?')
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CALL = web.RequestKey('call', RestCall)

# Callback types each interaction type accepts (ping, command, component, autocomplete, modal submit).
ALLOWED_CALLBACKS: dict[int, frozenset[int]] = {
    1: frozenset({1}),
    2: frozenset({4, 5, 9}),
    3: frozenset({4, 5, 6, 7, 9}),
    4: frozenset({8}),
    5: frozenset({4, 5, 6, 7}),
}


class ApiError(Exception):
    """An error response with a Discord-style JSON body."""

    def __init__(self, status: int, code: int, message: str, errors: Optional[dict[str, Any]] = None) -> None:
        super().__init__(f'{status} {code} {message}')
        self.status = status
        self.body: dict[str, Any] = {'code': code, 'message': message}
        if errors is not None:
            self.body['errors'] = errors


def json_response(data: Any, status: int = 200, headers: Optional[dict[str, str]] = None) -> web.Response:
    """JSON with the exact Content-Type discord.py requires."""
    headers = {'Content-Type': 'application/json', **(headers or {})}
    return web.Response(status=status, body=json.dumps(data).encode(), headers=headers)


def _bucket(method: str, route: str) -> str:
    return hashlib.sha1(f'{method} {route}'.encode()).hexdigest()[:20]


def _truthy(value: Optional[str]) -> bool:
    return (value or '').lower() in ('1', 'true')


class RestApi:
    """Route table plus the middleware that logs calls, injects faults and checks authentication."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    @property
    def authorization(self) -> str:
        """The Authorization header discord.py sends for the configured token."""
        return f'Bot {self.emu.config.token}'

    def routes(self) -> list[web.RouteDef]:
        a = API_PREFIX
        cmds = a + '/applications/{app_id}/commands'
        gcmds = a + '/applications/{app_id}/guilds/{guild_id}/commands'
        msgs = a + '/channels/{channel_id}/messages'
        hook = a + '/webhooks/{app_id}/{token}'
        return [
            web.get(a + '/users/@me', self.get_me),
            web.post(a + '/users/@me/channels', self.create_dm),
            web.get(a + '/users/{user_id}', self.get_user),
            web.get(a + '/gateway', self.get_gateway),
            web.get(a + '/gateway/bot', self.get_gateway_bot),
            web.get(a + '/oauth2/applications/@me', self.get_application),
            web.get(a + '/applications/@me', self.get_application),
            web.get(cmds, self.list_commands),
            web.put(cmds, self.overwrite_commands),
            web.post(cmds, self.upsert_command),
            web.get(cmds + '/{command_id}', self.get_command),
            web.patch(cmds + '/{command_id}', self.edit_command),
            web.delete(cmds + '/{command_id}', self.delete_command),
            web.get(gcmds, self.list_commands),
            web.put(gcmds, self.overwrite_commands),
            web.post(gcmds, self.upsert_command),
            web.get(gcmds + '/{command_id}', self.get_command),
            web.patch(gcmds + '/{command_id}', self.edit_command),
            web.delete(gcmds + '/{command_id}', self.delete_command),
            web.get(a + '/channels/{channel_id}', self.get_channel),
            web.post(a + '/channels/{channel_id}/typing', self.typing),
            web.post(a + '/channels/{channel_id}/threads', self.create_thread),
            web.get(msgs, self.list_messages),
            web.post(msgs, self.create_message),
            web.get(msgs + '/{message_id}', self.get_message),
            web.patch(msgs + '/{message_id}', self.edit_message),
            web.delete(msgs + '/{message_id}', self.delete_message),
            web.post(msgs + '/{message_id}/threads', self.create_thread_from_message),
            web.put(msgs + '/{message_id}/reactions/{emoji}/@me', self.add_reaction),
            web.delete(msgs + '/{message_id}/reactions/{emoji}/@me', self.remove_reaction),
            web.get(a + '/guilds/{guild_id}', self.get_guild),
            web.get(a + '/guilds/{guild_id}/channels', self.get_guild_channels),
            web.get(a + '/guilds/{guild_id}/roles', self.get_guild_roles),
            web.get(a + '/guilds/{guild_id}/members/{user_id}', self.get_member),
            web.post(a + '/interactions/{interaction_id}/{token}/callback', self.interaction_callback),
            web.post(hook, self.create_followup),
            web.get(hook + '/messages/{message_id}', self.get_webhook_message),
            web.patch(hook + '/messages/{message_id}', self.edit_webhook_message),
            web.delete(hook + '/messages/{message_id}', self.delete_webhook_message),
        ]

    # ------------------------------------------------------------- plumbing

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Log the call, apply injected faults and auth, turn ApiError into Discord-style responses."""
        if not request.path.startswith(API_PREFIX + '/'):
            return await handler(request)
        path = request.path[len(API_PREFIX) :]
        body, files = await self._read_body(request)
        resource = request.match_info.route.resource
        route = resource.canonical[len(API_PREFIX) :] if resource is not None else None
        call = RestCall(request.method, path, dict(request.query), body, files, time.monotonic(), route)
        self.emu.state.calls.append(call)
        request[CALL] = call
        bucket = _bucket(request.method, route or path)
        fault = self.emu.take_fault(request.method, path)
        try:
            if fault is not None:
                call.injected = True
                response: web.StreamResponse = self._fault_response(fault, bucket)
            elif not UNAUTHENTICATED.fullmatch(path) and request.headers.get('Authorization') != self.authorization:
                raise ApiError(401, 0, '401: Unauthorized')
            elif route is None:
                raise ApiError(404, 0, '404: Not Found')
            else:
                response = await handler(request)
        except ApiError as error:
            response = json_response(error.body, error.status)
        if fault is None:
            response.headers.update(
                {
                    'X-RateLimit-Limit': '5',
                    'X-RateLimit-Remaining': '4',
                    'X-RateLimit-Reset': f'{time.time() + 1:.3f}',
                    'X-RateLimit-Reset-After': '1.000',
                    'X-RateLimit-Bucket': bucket,
                }
            )
        call.status = response.status
        if isinstance(response, web.Response) and response.body:
            call.response = json.loads(response.body) if response.content_type == 'application/json' else None
        await self.emu.notify()
        return response

    async def _read_body(self, request: web.Request) -> tuple[Any, list[UploadedFile]]:
        if request.content_type == 'multipart/form-data':
            body, files = None, []
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    ctype = value.content_type
                    if ctype in (None, 'application/octet-stream'):
                        ctype = mimetypes.guess_type(value.filename)[0] or ctype
                    files.append(UploadedFile(name, value.filename, value.file.read(), ctype))
                elif name == 'payload_json':
                    body = json.loads(value)
            return body, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    @staticmethod
    def _fault_response(fault: Fault, bucket: str) -> web.Response:
        if fault.status != 429:
            reason = web.Response(status=fault.status).reason
            return json_response({'message': f'{fault.status}: {reason}', 'code': 0}, fault.status)
        after = fault.retry_after
        headers = {
            'Via': '1.1 google',
            'Retry-After': str(max(1, math.ceil(after))),
            'X-RateLimit-Limit': '5',
            'X-RateLimit-Remaining': '0',
            'X-RateLimit-Reset': f'{time.time() + after:.3f}',
            'X-RateLimit-Reset-After': f'{after:.3f}',
            'X-RateLimit-Bucket': bucket,
            'X-RateLimit-Scope': fault.scope,
        }
        if fault.scope == 'global':
            headers['X-RateLimit-Global'] = 'true'
        body = {'message': 'You are being rate limited.', 'retry_after': after, 'global': fault.scope == 'global'}
        return json_response(body, 429, headers)

    def violation(self, request: web.Request, rule: str, status: int, code: int, message: str) -> ApiError:
        """Record a rule violation and build the error Discord would answer with."""
        error = ApiError(status, code, message)
        self.emu.record_violation(rule, request.method, request[CALL].path, status, error.body)
        return error

    def invalid(self, request: web.Request, rule: str, errors: Iterable[rules.FieldError]) -> ApiError:
        """Record an Invalid Form Body (50035) violation."""
        body = rules.invalid_form_body(errors)
        self.emu.record_violation(rule, request.method, request[CALL].path, 400, body)
        return ApiError(400, 50035, 'Invalid Form Body', body['errors'])

    def _validate_new_message(
        self, request: web.Request, body: dict[str, Any], files: list[UploadedFile], prefix: rules.Path = ()
    ) -> dict[str, Any]:
        """Rules for a message about to be created; returns the body with a dangling soft reference removed."""
        errors = rules.validate_message(body, prefix)
        ref = body.get('message_reference')
        if ref and ref.get('message_id') and int(ref['message_id']) not in self.emu.state.messages:
            if ref.get('fail_if_not_exists', True):
                at = prefix + ('message_reference',)
                errors.append(rules.FieldError(at, 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message'))
            else:
                body = {k: v for k, v in body.items() if k != 'message_reference'}
        if errors:
            raise self.invalid(request, 'invalid_form_body', errors)
        if rules.is_empty_message(body, len(files)):
            raise self.violation(request, 'empty_message', 400, 50006, 'Cannot send an empty message')
        self._check_files(request, files)
        return body

    def _check_files(self, request: web.Request, files: list[UploadedFile]) -> None:
        if any(len(f.data) > self.emu.config.attachment_size_limit for f in files):
            raise self.violation(request, 'file_too_large', 413, 40005, 'Request entity too large')

    def _channel(self, request: web.Request) -> dict[str, Any]:
        channel = self.emu.state.channels.get(int(request.match_info['channel_id']))
        if channel is None:
            raise ApiError(404, 10003, 'Unknown Channel')
        return channel

    def _require(self, channel: dict[str, Any], permission: int) -> None:
        perms = self.emu.channel_permissions(channel, self.emu.application_id)
        if not perms & p.VIEW_CHANNEL:
            raise ApiError(403, 50001, 'Missing Access')
        if perms & permission != permission:
            raise ApiError(403, 50013, 'Missing Permissions')

    def _message(self, request: web.Request, channel: dict[str, Any]) -> dict[str, Any]:
        msg = self.emu.state.messages.get(int(request.match_info['message_id']))
        if msg is None or msg['channel_id'] != channel['id']:
            raise ApiError(404, 10008, 'Unknown Message')
        return msg

    def _guild(self, request: web.Request) -> GuildState:
        guild = self.emu.state.guilds.get(int(request.match_info['guild_id']))
        if guild is None:
            raise ApiError(404, 10004, 'Unknown Guild')
        return guild

    def _rest_view(self, msg: dict[str, Any]) -> dict[str, Any]:
        """REST reads are gated by the portal's message-content switch, not the gateway intents."""
        return self.emu.message_for(msg, bool(self.emu.config.privileged_intents & p.INTENT_MESSAGE_CONTENT))

    # ---------------------------------------------------------- users/app

    async def get_me(self, request: web.Request) -> web.Response:
        return json_response({**self.emu.bot_user, 'verified': True, 'mfa_enabled': False, 'email': None})

    async def get_user(self, request: web.Request) -> web.Response:
        user = self.emu.state.users.get(int(request.match_info['user_id']))
        if user is None:
            raise ApiError(404, 10013, 'Unknown User')
        return json_response(user)

    async def create_dm(self, request: web.Request) -> web.Response:
        recipient = int(request[CALL].json['recipient_id'])
        if recipient not in self.emu.state.users:
            raise ApiError(400, 50033, 'Invalid Recipient(s)')
        return json_response(self.emu.open_dm(recipient))

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({'url': self.emu.gateway_url.rstrip('/')})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {'total': 1000, 'remaining': 999, 'reset_after': 14400000, 'max_concurrency': 1}
        shards = max(1, math.ceil(len(self.emu.state.guilds) / self.emu.config.guilds_per_shard))
        return json_response({'url': self.emu.gateway_url.rstrip('/'), 'shards': shards, 'session_start_limit': limit})

    async def get_application(self, request: web.Request) -> web.Response:
        emu = self.emu
        return json_response(
            {
                'id': str(emu.application_id),
                'name': emu.config.bot_name,
                'icon': None,
                'description': '',
                'summary': '',
                'type': None,
                'bot_public': True,
                'bot_require_code_grant': False,
                'verify_key': '0' * 64,
                'flags': emu.application_flags,
                'owner': emu.owner,
                'team': None,
                'hook': True,
                'tags': [],
                'redirect_uris': [],
                'interactions_endpoint_url': None,
                'approximate_guild_count': len(emu.state.guilds),
                'bot': emu.bot_user,
            }
        )

    # ------------------------------------------------------------- commands

    def _command_scope(self, request: web.Request) -> Optional[int]:
        if int(request.match_info['app_id']) != self.emu.application_id:
            raise ApiError(403, 50001, 'Missing Access')
        if 'guild_id' not in request.match_info:
            return None
        return self._guild(request).id

    async def list_commands(self, request: web.Request) -> web.Response:
        return json_response(list(self.emu.state.commands.get(self._command_scope(request), {}).values()))

    async def overwrite_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        commands = request[CALL].json or []
        errors = rules.validate_command_list(commands)
        if errors:
            raise self.invalid(request, 'invalid_command', errors)
        return json_response(self.emu.register_commands(commands, scope))

    async def upsert_command(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        body = request[CALL].json
        errors = rules.validate_command(body)
        if errors:
            raise self.invalid(request, 'invalid_command', errors)
        key = (body.get('type', 1), body['name'])
        scoped = self.emu.state.commands.get(scope, {})
        existing = next((cid for cid, c in scoped.items() if (c['type'], c['name']) == key), None)
        return json_response(self.emu.store_command(body, scope, existing), 200 if existing else 201)

    def _stored_command(self, request: web.Request) -> tuple[Optional[int], dict[str, Any]]:
        scope = self._command_scope(request)
        command = self.emu.state.commands.get(scope, {}).get(int(request.match_info['command_id']))
        if command is None:
            raise ApiError(404, 10063, 'Unknown application command')
        return scope, command

    async def get_command(self, request: web.Request) -> web.Response:
        return json_response(self._stored_command(request)[1])

    async def edit_command(self, request: web.Request) -> web.Response:
        scope, command = self._stored_command(request)
        merged = {**command, **(request[CALL].json or {})}
        errors = rules.validate_command(merged)
        if errors:
            raise self.invalid(request, 'invalid_command', errors)
        return json_response(self.emu.store_command(merged, scope, int(command['id'])))

    async def delete_command(self, request: web.Request) -> web.Response:
        scope, command = self._stored_command(request)
        del self.emu.state.commands[scope][int(command['id'])]
        return web.Response(status=204)

    # ------------------------------------------------------ channels/guilds

    async def get_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self._require(channel, 0)
        return json_response(channel)

    async def typing(self, request: web.Request) -> web.Response:
        self._require(self._channel(request), p.SEND_MESSAGES)
        return web.Response(status=204)

    async def get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        data = self.emu.guild_payload(guild.id)
        if _truthy(request.query.get('with_counts')):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return json_response(data)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        gid = str(self._guild(request).id)
        channels = self.emu.state.channels.values()
        return json_response([c for c in channels if c.get('guild_id') == gid and c['type'] not in p.THREAD_TYPES])

    async def get_guild_roles(self, request: web.Request) -> web.Response:
        return json_response(list(self._guild(request).roles.values()))

    async def get_member(self, request: web.Request) -> web.Response:
        member = self._guild(request).members.get(int(request.match_info['user_id']))
        if member is None:
            raise ApiError(404, 10007, 'Unknown Member')
        return json_response(member)

    # ------------------------------------------------------------- messages

    async def list_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self._require(channel, p.READ_MESSAGE_HISTORY)
        limit = int(request.query.get('limit', 50))
        visible = [
            m
            for m in self.emu.state.messages.values()
            if m['channel_id'] == channel['id'] and not m['flags'] & p.FLAG_EPHEMERAL
        ]
        found = sorted(visible, key=lambda m: int(m['id']), reverse=True)
        return json_response([self._rest_view(m) for m in found[:limit]])

    async def create_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        call: RestCall = request[CALL]
        needed = p.SEND_MESSAGES_IN_THREADS if channel['type'] in p.THREAD_TYPES else p.SEND_MESSAGES
        self._require(channel, needed | (p.ATTACH_FILES if call.files else 0))
        body = self._validate_new_message(request, call.json or {}, call.files)
        msg = await self.emu.create_message(int(channel['id']), self.emu.bot_user, body, files=call.files)
        return json_response(msg)

    async def get_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self._require(channel, p.READ_MESSAGE_HISTORY)
        return json_response(self._rest_view(self._message(request, channel)))

    async def edit_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        msg = self._message(request, channel)
        if msg['author']['id'] != self.emu.bot_user['id']:
            raise ApiError(403, 50005, 'Cannot edit a message authored by another user')
        call: RestCall = request[CALL]
        body = call.json or {}
        errors = rules.validate_message(body)
        if errors:
            raise self.invalid(request, 'invalid_form_body', errors)
        if rules.is_empty_message({**msg, **body}, len(call.files)):
            raise self.violation(request, 'empty_message', 400, 50006, 'Cannot send an empty message')
        self._check_files(request, call.files)
        return json_response(await self.emu.edit_message(msg, body, call.files))

    async def delete_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        msg = self._message(request, channel)
        if msg['author']['id'] != self.emu.bot_user['id']:
            self._require(channel, p.MANAGE_MESSAGES)
        await self.emu.delete_message(msg)
        return web.Response(status=204)

    def _reaction_emoji(self, request: web.Request) -> dict[str, Any]:
        raw = request.match_info['emoji']
        if ':' in raw:
            raise ApiError(400, 10014, 'Unknown Emoji')  # the emulated guilds have no custom emoji
        return {'id': None, 'name': raw}

    async def add_reaction(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        msg = self._message(request, channel)
        emoji = self._reaction_emoji(request)
        existing = next((r for r in msg['reactions'] if r['emoji']['name'] == emoji['name']), None)
        self._require(channel, p.READ_MESSAGE_HISTORY | (0 if existing else p.ADD_REACTIONS))
        if existing is None:
            existing = {
                'emoji': emoji,
                'count': 0,
                'me': False,
                'count_details': {'burst': 0, 'normal': 0},
                'burst_colors': [],
                'me_burst': False,
                'burst_count': 0,
            }
            msg['reactions'].append(existing)
        if not existing['me']:
            existing.update(me=True, count=existing['count'] + 1)
            existing['count_details']['normal'] += 1
            await self._dispatch_reaction('MESSAGE_REACTION_ADD', channel, msg, emoji)
        return web.Response(status=204)

    async def remove_reaction(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        msg = self._message(request, channel)
        emoji = self._reaction_emoji(request)
        existing = next((r for r in msg['reactions'] if r['emoji']['name'] == emoji['name'] and r['me']), None)
        if existing is not None:
            existing.update(me=False, count=existing['count'] - 1)
            existing['count_details']['normal'] -= 1
            if existing['count'] == 0:
                msg['reactions'].remove(existing)
            await self._dispatch_reaction('MESSAGE_REACTION_REMOVE', channel, msg, emoji)
        return web.Response(status=204)

    async def _dispatch_reaction(
        self, event: str, channel: dict[str, Any], msg: dict[str, Any], emoji: dict[str, Any]
    ) -> None:
        data: dict[str, Any] = {
            'user_id': self.emu.bot_user['id'],
            'channel_id': channel['id'],
            'message_id': msg['id'],
            'emoji': emoji,
            'burst': False,
            'type': 0,
        }
        guild = self.emu.guild_of(channel)
        if guild is not None:
            data['guild_id'] = str(guild.id)
            if event.endswith('_ADD'):
                data.update(member=guild.members[self.emu.application_id], message_author_id=msg['author']['id'])
        await self.emu.dispatch(event, data)

    # -------------------------------------------------------------- threads

    def _validate_thread_name(self, request: web.Request, body: dict[str, Any]) -> None:
        errors = rules.validate_thread_name(body)
        if errors:
            raise self.invalid(request, 'invalid_form_body', errors)

    async def _open_thread(
        self, channel: dict[str, Any], thread_id: int, body: dict[str, Any], type: int
    ) -> dict[str, Any]:
        thread = p.thread_channel(
            thread_id,
            int(channel['guild_id']),
            int(channel['id']),
            self.emu.application_id,
            body['name'],
            type=type,
            auto_archive_duration=body.get('auto_archive_duration') or 1440,
            invitable=body.get('invitable', True),
        )
        self.emu.state.channels[thread_id] = thread
        await self.emu.dispatch('THREAD_CREATE', {**thread, 'newly_created': True})
        return thread

    async def create_thread_from_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        msg = self._message(request, channel)
        if channel['type'] not in (p.GUILD_TEXT, p.GUILD_NEWS):
            raise ApiError(400, 50024, 'Cannot execute action on this channel type')
        self._require(channel, p.CREATE_PUBLIC_THREADS)
        body = request[CALL].json or {}
        self._validate_thread_name(request, body)
        if int(msg['id']) in self.emu.state.channels:
            raise ApiError(400, 160004, 'A thread has already been created for this message')
        kind = 10 if channel['type'] == p.GUILD_NEWS else p.PUBLIC_THREAD
        thread = await self._open_thread(channel, int(msg['id']), body, kind)
        msg['thread'] = thread
        return json_response(thread, 201)

    async def create_thread(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        call: RestCall = request[CALL]
        body = call.json or {}
        if channel['type'] not in (p.GUILD_TEXT, p.GUILD_NEWS, p.GUILD_FORUM):
            raise ApiError(400, 50024, 'Cannot execute action on this channel type')
        self._validate_thread_name(request, body)
        if channel['type'] == p.GUILD_FORUM:
            self._require(channel, p.SEND_MESSAGES)
            starter = self._validate_new_message(request, body.get('message') or {}, call.files, ('message',))
            thread = await self._open_thread(channel, self.emu.snowflakes.next(), body, p.PUBLIC_THREAD)
            tid = int(thread['id'])
            first = await self.emu.create_message(tid, self.emu.bot_user, starter, files=call.files, message_id=tid)
            return json_response({**thread, 'message': first}, 201)
        kind = body.get('type') or p.PRIVATE_THREAD
        self._require(channel, p.CREATE_PRIVATE_THREADS if kind == p.PRIVATE_THREAD else p.CREATE_PUBLIC_THREADS)
        thread = await self._open_thread(channel, self.emu.snowflakes.next(), body, kind)
        return json_response(thread, 201)

    # --------------------------------------------------------- interactions

    def _interaction_message_type(self, record: InteractionRecord) -> int:
        return 20 if record.type == 2 else 0

    async def interaction_callback(self, request: web.Request) -> web.Response:
        """Initial response: once, within the deadline, of a type valid for the interaction."""
        record = self.emu.state.interactions.get(int(request.match_info['interaction_id']))
        call: RestCall = request[CALL]
        if record is None or record.token != request.match_info['token']:
            raise self.violation(request, 'unknown_interaction', 404, 10062, 'Unknown interaction')
        body = call.json or {}
        kind, data = body.get('type'), body.get('data') or {}
        attempt = CallbackRecord(kind, body.get('data'), time.monotonic(), 0)
        record.callbacks.append(attempt)
        if record.ack is not None:
            attempt.status = 400
            message = 'Interaction has already been acknowledged.'
            raise self.violation(request, 'interaction_already_acknowledged', 400, 40060, message)
        if attempt.at - record.created_at > self.emu.config.interaction_deadline:
            attempt.status = 404
            raise self.violation(request, 'interaction_late', 404, 10062, 'Unknown interaction')
        errors: list[rules.FieldError] = []
        if kind not in ALLOWED_CALLBACKS[record.type]:
            message = 'Interaction response type is invalid for this interaction'
            errors.append(rules.FieldError(('type',), 'INTERACTION_RESPONSE_TYPE_INVALID', message))
        elif kind in (4, 7):
            errors += rules.validate_message(data, ('data',))
        elif kind == 8:
            errors += rules.validate_autocomplete(data)
        elif kind == 9:
            errors += rules.validate_modal(data)
        if errors:
            attempt.status = 400
            raise self.invalid(request, 'invalid_interaction_response', errors)
        if kind == 4 and rules.is_empty_message(data, len(call.files)):
            attempt.status = 400
            raise self.violation(request, 'empty_message', 400, 50006, 'Cannot send an empty message')
        self._check_files(request, call.files)
        attempt.status = 200
        record.ack = attempt
        message = await self._apply_callback(record, kind, data, call.files)
        await self.emu.notify()
        if not _truthy(request.query.get('with_response')):
            return web.Response(status=204)
        response: dict[str, Any] = {
            'interaction': {
                'id': str(record.id),
                'type': record.type,
                'response_message_loading': kind == 5,
                'response_message_ephemeral': bool(message and message['flags'] & p.FLAG_EPHEMERAL),
            },
            'resource': {'type': kind},
        }
        if message is not None:
            response['interaction']['response_message_id'] = message['id']
            response['resource']['message'] = message
        return json_response(response)

    async def _apply_callback(
        self, record: InteractionRecord, kind: int, data: dict[str, Any], files: list[UploadedFile]
    ) -> Optional[dict[str, Any]]:
        if kind in (4, 5):
            flags = p.FLAG_LOADING if kind == 5 else 0
            body = {'flags': data.get('flags', 0) & p.FLAG_EPHEMERAL} if kind == 5 else data
            msg = await self.emu.create_message(
                record.channel_id,
                self.emu.bot_user,
                body,
                files=files,
                source='interaction_response',
                extra_flags=flags,
                message_type=self._interaction_message_type(record),
                interaction=record,
            )
            record.original_message_id = int(msg['id'])
            return msg
        if kind in (6, 7) and record.source_message_id is not None:
            record.original_message_id = record.source_message_id
            source = self.emu.state.messages.get(record.source_message_id)
            if kind == 7 and source is not None:
                return await self.emu.edit_message(source, data, files)
            return source
        return None

    def _webhook_interaction(self, request: web.Request) -> InteractionRecord:
        token = request.match_info['token']
        record = next((r for r in self.emu.state.interactions.values() if r.token == token), None)
        if record is None or int(request.match_info['app_id']) != self.emu.application_id:
            raise self.violation(request, 'unknown_webhook', 404, 10015, 'Unknown Webhook')
        if time.monotonic() - record.created_at > self.emu.config.interaction_token_ttl:
            raise self.violation(request, 'interaction_token_expired', 401, 50027, 'Invalid Webhook Token')
        return record

    def _webhook_message(self, request: web.Request, record: InteractionRecord) -> dict[str, Any]:
        raw = request.match_info['message_id']
        if raw == '@original':
            if record.ack is None:
                raise self.violation(request, 'original_before_ack', 404, 10008, 'Unknown Message')
            mid = record.original_message_id
        else:
            mid = int(raw)
            if mid not in record.followup_ids and mid != record.original_message_id:
                mid = None
        msg = self.emu.state.messages.get(mid) if mid is not None else None
        if msg is None:
            raise ApiError(404, 10008, 'Unknown Message')
        return msg

    async def create_followup(self, request: web.Request) -> web.Response:
        """A followup; the first one after a 'thinking' defer fills in the deferred message instead."""
        record = self._webhook_interaction(request)
        if record.ack is None:
            raise self.violation(request, 'followup_before_ack', 404, 10015, 'Unknown Webhook')
        call: RestCall = request[CALL]
        body = self._validate_new_message(request, call.json or {}, call.files)
        original = self.emu.state.messages.get(record.original_message_id or 0)
        if original is not None and original['flags'] & p.FLAG_LOADING:
            msg = await self.emu.edit_message(original, body, call.files)
        else:
            msg = await self.emu.create_message(
                record.channel_id,
                self.emu.bot_user,
                body,
                files=call.files,
                source='followup',
                message_type=self._interaction_message_type(record),
                interaction=record,
            )
        record.followup_ids.append(int(msg['id']))
        await self.emu.notify()
        return json_response(msg) if _truthy(request.query.get('wait')) else web.Response(status=204)

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        record = self._webhook_interaction(request)
        return json_response(self._webhook_message(request, record))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        record = self._webhook_interaction(request)
        msg = self._webhook_message(request, record)
        call: RestCall = request[CALL]
        body = call.json or {}
        errors = rules.validate_message(body)
        if errors:
            raise self.invalid(request, 'invalid_form_body', errors)
        filling = bool(msg['flags'] & p.FLAG_LOADING)
        if rules.is_empty_message({**({} if filling else msg), **body}, len(call.files)):
            raise self.violation(request, 'empty_message', 400, 50006, 'Cannot send an empty message')
        self._check_files(request, call.files)
        return json_response(await self.emu.edit_message(msg, body, call.files))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        record = self._webhook_interaction(request)
        await self.emu.delete_message(self._webhook_message(request, record))
        return web.Response(status=204)

