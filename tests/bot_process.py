"""A `newsdesk` command (`run`, `sync`) in a process of its own, as in production, talking to the Discord
emulator at the URLs given: discord.py's two URL seams point there, and any connection off 127.0.0.1 fails.

    python tests/bot_process.py API_BASE GATEWAY_URL run
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(TESTS.parent), str(TESTS)]

from discord_emulator.harness import discord_at, loopback_only  # noqa: E402

from index.cli import main  # noqa: E402

if __name__ == "__main__":
    api_base, gateway_url, *command = sys.argv[1:]
    sys.argv = ["newsdesk", *command]
    with loopback_only(), discord_at(api_base, gateway_url):
        main()
