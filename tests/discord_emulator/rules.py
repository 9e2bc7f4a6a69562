"""Discord's server-side limits and mention semantics, as pure functions over request payloads.

Every check mirrors a rejection real Discord performs (documented limits, observed error codes),
so a bot that passes here does not get a 400 in production for the same payload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional

Path = tuple['str | int', ...]

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_ACTION_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_CHOICES = 25
MAX_CHOICE_TEXT = 100
MAX_SELECT_OPTIONS = 25
MAX_V2_COMPONENTS = 40
FLAG_COMPONENTS_V2 = 1 << 15
SELECT_TYPES = (3, 5, 6, 7, 8)
COMMAND_NAME = re.compile(r'^[-_\w]{1,32}$')


@dataclass(frozen=True)
class FieldError:
    """One entry of Discord's nested ``errors`` object."""

    path: Path
    code: str
    message: str


def invalid_form_body(errors: Iterable[FieldError]) -> dict[str, Any]:
    """Build Discord's ``{"code": 50035, "errors": {...}}`` body, nesting errors by path like the API."""
    nested: dict[str, Any] = {}
    for error in errors:
        node = nested
        for part in error.path:
            node = node.setdefault(str(part), {})
        node.setdefault('_errors', []).append({'code': error.code, 'message': error.message})
    return {'code': 50035, 'message': 'Invalid Form Body', 'errors': nested}


def _max_length(path: Path, value: Any, limit: int) -> Iterator[FieldError]:
    if isinstance(value, (str, list)) and len(value) > limit:
        yield FieldError(path, 'BASE_TYPE_MAX_LENGTH', f'Must be {limit} or fewer in length.')


def _bounded(path: Path, value: Any, low: int, high: int) -> Iterator[FieldError]:
    if value is None or not (low <= len(value) <= high):
        yield FieldError(path, 'BASE_TYPE_BAD_LENGTH', f'Must be between {low} and {high} in length.')


def embed_size(embed: dict[str, Any]) -> int:
    """Characters counted towards the 6000 limit: title, description, fields, footer text, author name."""
    size = len(embed.get('title') or '') + len(embed.get('description') or '')
    size += len((embed.get('footer') or {}).get('text') or '') + len((embed.get('author') or {}).get('name') or '')
    for field in embed.get('fields') or []:
        size += len(field.get('name') or '') + len(field.get('value') or '')
    return size


def validate_embeds(embeds: list[dict[str, Any]], prefix: Path = ('embeds',)) -> list[FieldError]:
    """Per-embed and per-message embed limits."""
    errors = list(_max_length(prefix, embeds, MAX_EMBEDS))
    for i, embed in enumerate(embeds):
        at = prefix + (i,)
        errors += _max_length(at + ('title',), embed.get('title'), 256)
        errors += _max_length(at + ('description',), embed.get('description'), 4096)
        errors += _max_length(at + ('footer', 'text'), (embed.get('footer') or {}).get('text'), 2048)
        errors += _max_length(at + ('author', 'name'), (embed.get('author') or {}).get('name'), 256)
        fields = embed.get('fields') or []
        errors += _max_length(at + ('fields',), fields, 25)
        for j, field in enumerate(fields):
            for key, limit in (('name', 256), ('value', 1024)):
                if not field.get(key):
                    errors.append(FieldError(at + ('fields', j, key), 'BASE_TYPE_REQUIRED', 'This field is required'))
                errors += _max_length(at + ('fields', j, key), field.get(key), limit)
    if sum(embed_size(e) for e in embeds) > MAX_EMBED_TOTAL:
        message = f'Embed size exceeds maximum size of {MAX_EMBED_TOTAL}'
        errors.append(FieldError(prefix, 'MAX_EMBED_SIZE_EXCEEDED', message))
    return errors


def _walk_components(components: list[dict[str, Any]], prefix: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for i, component in enumerate(components):
        at = prefix + (i,)
        yield at, component
        yield from _walk_components(component.get('components') or [], at + ('components',))
        for key in ('accessory', 'component'):
            if isinstance(component.get(key), dict):
                yield from _walk_components([component[key]], at + (key,))


def validate_components(
    components: list[dict[str, Any]], *, flags: int = 0, prefix: Path = ('components',)
) -> list[FieldError]:
    """Action-row/button/select limits, plus the unique custom_id rule."""
    errors: list[FieldError] = []
    if flags & FLAG_COMPONENTS_V2:
        if sum(1 for _ in _walk_components(components, prefix)) > MAX_V2_COMPONENTS:
            errors += _max_length(prefix, list(_walk_components(components, prefix)), MAX_V2_COMPONENTS)
    else:
        errors += _max_length(prefix, components, MAX_ACTION_ROWS)
    seen: set[str] = set()
    for at, component in _walk_components(components, prefix):
        kind = component.get('type')
        children = component.get('components') or []
        if kind == 1:
            if any(c.get('type') in SELECT_TYPES for c in children) and len(children) > 1:
                errors.append(FieldError(at + ('components',), 'BASE_TYPE_MAX_LENGTH', 'Must be 1 or fewer in length.'))
            errors += _max_length(at + ('components',), children, MAX_ROW_BUTTONS)
        custom_id = component.get('custom_id')
        if custom_id is not None:
            errors += _bounded(at + ('custom_id',), custom_id, 1, MAX_CUSTOM_ID)
            if custom_id in seen:
                message = 'Component custom id cannot be duplicated'
                errors.append(FieldError(at + ('custom_id',), 'COMPONENT_CUSTOM_ID_DUPLICATED', message))
            seen.add(custom_id)
        if kind == 2:
            errors += _max_length(at + ('label',), component.get('label'), MAX_BUTTON_LABEL)
            is_link = component.get('style') == 5
            is_premium = component.get('style') == 6
            if is_link != bool(component.get('url')) or (not is_link and not is_premium and custom_id is None):
                message = 'A button must have either a custom_id or a url'
                errors.append(FieldError(at, 'BUTTON_COMPONENT_INVALID', message))
        if kind in SELECT_TYPES:
            errors += _max_length(at + ('placeholder',), component.get('placeholder'), 150)
            options = component.get('options') or []
            errors += _max_length(at + ('options',), options, MAX_SELECT_OPTIONS)
            for j, option in enumerate(options):
                for key in ('label', 'value', 'description'):
                    errors += _max_length(at + ('options', j, key), option.get(key), 100)
        if kind == 4:
            errors += _max_length(at + ('label',), component.get('label'), 45)
            errors += _max_length(at + ('value',), component.get('value'), 4000)
    return errors


def validate_allowed_mentions(allowed: Any, prefix: Path = ('allowed_mentions',)) -> list[FieldError]:
    """``parse`` and an explicit id list of the same kind are mutually exclusive."""
    if not isinstance(allowed, dict):
        return []
    errors: list[FieldError] = []
    for kind in ('users', 'roles'):
        if kind in (allowed.get('parse') or []) and allowed.get(kind):
            message = f'parse:{kind} and {kind} are mutually exclusive'
            errors.append(FieldError(prefix + (kind,), 'SET_TYPE_ALREADY_CONTAINS_VALUE', message))
        errors += _max_length(prefix + (kind,), allowed.get(kind), 100)
    return errors


def validate_message(payload: dict[str, Any], prefix: Path = ()) -> list[FieldError]:
    """Content, embed, component and allowed_mentions limits of a message create/edit body."""
    errors = list(_max_length(prefix + ('content',), payload.get('content'), MAX_CONTENT))
    errors += validate_embeds(payload.get('embeds') or [], prefix + ('embeds',))
    components = payload.get('components') or []
    errors += validate_components(components, flags=payload.get('flags') or 0, prefix=prefix + ('components',))
    errors += validate_allowed_mentions(payload.get('allowed_mentions'), prefix + ('allowed_mentions',))
    return errors


def is_empty_message(payload: dict[str, Any], file_count: int) -> bool:
    """Discord answers 50006 when a new message has nothing visible in it."""
    visible = ('content', 'embeds', 'components', 'sticker_ids', 'poll', 'attachments')
    return file_count == 0 and not any(payload.get(key) for key in visible)


def validate_autocomplete(data: dict[str, Any], prefix: Path = ('data',)) -> list[FieldError]:
    """At most 25 choices, each name 1-100 chars and string value at most 100 chars."""
    choices = data.get('choices') or []
    errors = list(_max_length(prefix + ('choices',), choices, MAX_CHOICES))
    for i, choice in enumerate(choices):
        errors += _bounded(prefix + ('choices', i, 'name'), choice.get('name'), 1, MAX_CHOICE_TEXT)
        if isinstance(choice.get('value'), str):
            errors += _max_length(prefix + ('choices', i, 'value'), choice['value'], MAX_CHOICE_TEXT)
    return errors


def validate_modal(data: dict[str, Any], prefix: Path = ('data',)) -> list[FieldError]:
    """Modal title/custom_id limits and at most 5 top-level components."""
    errors = list(_bounded(prefix + ('title',), data.get('title'), 1, 45))
    errors += _bounded(prefix + ('custom_id',), data.get('custom_id'), 1, MAX_CUSTOM_ID)
    components = data.get('components') or []
    errors += _bounded(prefix + ('components',), components, 1, 5)
    errors += validate_components(components, prefix=prefix + ('components',))
    return errors


def _validate_options(options: list[dict[str, Any]], prefix: Path) -> list[FieldError]:
    errors = list(_max_length(prefix, options, 25))
    seen_optional = False
    for i, option in enumerate(options):
        at = prefix + (i,)
        name = option.get('name') or ''
        if not COMMAND_NAME.match(name) or name != name.lower():
            errors.append(FieldError(at + ('name',), 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid'))
        errors += _bounded(at + ('description',), option.get('description'), 1, 100)
        choices = option.get('choices') or []
        errors += _max_length(at + ('choices',), choices, MAX_CHOICES)
        for j, choice in enumerate(choices):
            errors += _bounded(at + ('choices', j, 'name'), choice.get('name'), 1, MAX_CHOICE_TEXT)
        if option.get('type') in (1, 2):
            errors += _validate_options(option.get('options') or [], at + ('options',))
        elif option.get('required'):
            if seen_optional:
                message = 'Required options must be placed before non-required options'
                errors.append(FieldError(at + ('required',), 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', message))
        else:
            seen_optional = True
    return errors


def validate_command(command: dict[str, Any], prefix: Path = ()) -> list[FieldError]:
    """Name/description/option rules Discord applies when registering an application command."""
    errors: list[FieldError] = []
    name = command.get('name') or ''
    chat_input = command.get('type', 1) == 1
    if chat_input and (not COMMAND_NAME.match(name) or name != name.lower()):
        errors.append(FieldError(prefix + ('name',), 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid'))
    elif not chat_input:
        errors += _bounded(prefix + ('name',), name, 1, 32)
    if chat_input:
        errors += _bounded(prefix + ('description',), command.get('description'), 1, 100)
    errors += _validate_options(command.get('options') or [], prefix + ('options',))
    return errors


def validate_command_list(commands: list[dict[str, Any]]) -> list[FieldError]:
    """Bulk overwrite rules: each command valid, at most 100, unique (type, name)."""
    errors = list(_max_length((), commands, 100))
    seen: set[tuple[int, str]] = set()
    for i, command in enumerate(commands):
        errors += validate_command(command, (i,))
        key = (command.get('type', 1), command.get('name', ''))
        if key in seen:
            message = 'Application command names must be unique'
            errors.append(FieldError((i, 'name'), 'APPLICATION_COMMANDS_DUPLICATE_NAME', message))
        seen.add(key)
    return errors


def validate_thread_name(body: dict[str, Any]) -> list[FieldError]:
    """Thread names are 1-100 characters."""
    return list(_bounded(('name',), body.get('name'), 1, 100))


USER_MENTION = re.compile(r'<@!?(\d+)>')
ROLE_MENTION = re.compile(r'<@&(\d+)>')


@dataclass(frozen=True)
class MentionTargets:
    """Everything a message's content mentions, before allowed_mentions filtering."""

    users: tuple[int, ...]
    roles: tuple[int, ...]
    everyone: bool
    here: bool


def parse_mentions(content: Optional[str]) -> MentionTargets:
    """Extract <@id>, <@!id>, <@&id>, @everyone and @here from content (deduplicated, in order)."""
    text = content or ''
    return MentionTargets(
        users=tuple(dict.fromkeys(int(m) for m in USER_MENTION.findall(text))),
        roles=tuple(dict.fromkeys(int(m) for m in ROLE_MENTION.findall(text))),
        everyone='@everyone' in text,
        here='@here' in text,
    )


def allowed_pings(
    content: Optional[str], allowed_mentions: Optional[dict[str, Any]], *, replied_user_id: Optional[int] = None
) -> list[tuple[str, Optional[int]]]:
    """(kind, target_id) pairs that would notify, given the allowed_mentions Discord received.

    No allowed_mentions at all means Discord's default: parse everything and ping the replied-to
    author. Once the object is present only what it lists is parsed and replied_user defaults false.
    Sender permissions (MENTION_EVERYONE, role mentionability) are deliberately ignored so that the
    result is an upper bound: a latent ping is reported even if today's permissions would mute it.
    """
    targets = parse_mentions(content)
    if allowed_mentions is None:
        parse, users, roles, replied = {'users', 'roles', 'everyone'}, set(), set(), True
    else:
        parse = set(allowed_mentions.get('parse') or [])
        users = {int(u) for u in allowed_mentions.get('users') or []}
        roles = {int(r) for r in allowed_mentions.get('roles') or []}
        replied = bool(allowed_mentions.get('replied_user', False))
    pings: list[tuple[str, Optional[int]]] = []
    if 'everyone' in parse:
        pings += [('everyone', None)] * targets.everyone + [('here', None)] * targets.here
    pings += [('user', u) for u in targets.users if 'users' in parse or u in users]
    pings += [('role', r) for r in targets.roles if 'roles' in parse or r in roles]
    if replied and replied_user_id is not None and ('user', replied_user_id) not in pings:
        pings.append(('replied_user', replied_user_id))
    return pings
