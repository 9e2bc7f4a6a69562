"""Injected failures: tests script 429s and 5xx answers so the bot's retry paths run on purpose."""

from __future__ import annotations

import re
from typing import Optional

from .state import EmulatorState, Fault


class Faults:
    """Emulator mixin: queue faults for matching requests; RestApi consumes them before routing."""

    state: EmulatorState  # set by Emulator.__init__

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 429,
        retry_after: float = 0.2,
        count: int = 1,
        scope: str = 'user',
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` (429 with Retry-After semantics, or 5xx)."""
        self.state.faults.append(Fault(method.upper(), re.compile(path_regex), status, retry_after, count, scope))

    def take_fault(self, method: str, path: str) -> Optional[Fault]:
        """Consume one matching injected fault."""
        for fault in self.state.faults:
            if fault.remaining > 0 and fault.method == method and fault.pattern.fullmatch(path):
                fault.remaining -= 1
                return fault
        return None
