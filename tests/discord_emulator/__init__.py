"""Discord API emulator (REST + gateway) for testing discord.py bots over loopback.

Typical use inside ``asyncio.run``::

    async with emulator(interaction_deadline=0.5) as emu:
        async with running_client(emu, make_bot()) as bot:
            handle = await emu.send_command('ping')
            response = await handle          # the accepted initial callback
            assert emu.violations == []
"""

from . import payloads, rules
from .harness import emulator, loopback_only, patched_discord, running_client
from .server import Emulator, InteractionHandle, InteractionRejected, start_emulator
from .state import EmulatorConfig

__all__ = [
    'Emulator',
    'EmulatorConfig',
    'InteractionHandle',
    'InteractionRejected',
    'emulator',
    'loopback_only',
    'patched_discord',
    'payloads',
    'rules',
    'running_client',
    'start_emulator',
]
