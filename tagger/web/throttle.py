"""Sign-in throttling: after too many failed sign-ins for one user name, or from one address,
further attempts are refused for a while, so passwords cannot be guessed at machine speed.

In memory, per server process (the default deployment is one process); a restart clears it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

MAX_FAILURES = 5  # failed sign-ins allowed per key within WINDOW_S
WINDOW_S = 15 * 60.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0  # when not allowed: seconds until the oldest counted failure expires


class LoginThrottle:
    """Failures are counted per key (``user:<name>``, ``ip:<address>``) in a sliding window."""

    def __init__(
        self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, *keys: str) -> Verdict:
        """Whether a sign-in under all these keys may be attempted now."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                q = self._prune(key, now)
                if q is not None and len(q) >= self.max_failures:
                    wait = max(wait, q[0] + self.window_s - now)
        return Verdict(True) if wait <= 0 else Verdict(False, max(1, int(wait + 0.999)))

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) > 10_000:  # many names tried: drop the expired ones
                for key in list(self._failures):
                    self._prune(key, now)
            for key in keys:
                q = self._prune(key, now)
                if q is None:
                    q = self._failures[key] = deque()
                q.append(now)

    def succeeded(self, user_key: str) -> None:
        """A correct password clears that user's count (the address keeps its own)."""
        with self._lock:
            self._failures.pop(user_key, None)

    def _prune(self, key: str, now: float) -> deque[float] | None:
        """The key's failures still inside the window (None, and forgotten, when there are none)."""
        q = self._failures.get(key)
        while q and q[0] <= now - self.window_s:
            q.popleft()
        if not q:
            self._failures.pop(key, None)
            return None
        return q
