"""When to lint a document: debounced, one lint at a time per document, the latest text wins.

An edit after a quiet spell is linted at once (no delay when the user stops to look). Edits that
follow each other within the debounce delay wait until the delay has passed since the last one,
and an edit that arrives while its document is being linted makes that document be linted once
more afterwards. Lints run on one worker thread, so the event loop stays free to answer hovers,
completions and code actions meanwhile.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor


class Scheduler:
    def __init__(self, run, delay_s: float):
        """`run(key)` is a coroutine function that lints the document `key` once."""
        self._run = run
        self.delay_s = delay_s
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlfilter-lint")
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._running: dict[str, asyncio.Task] = {}
        self._again: set[str] = set()
        self._last_edit: dict[str, float] = {}

    def edited(self, key: str, now: bool = False) -> None:
        """`key` changed (or was opened, with `now`): lint it when its turn comes."""
        loop = asyncio.get_running_loop()
        t = loop.time()
        quiet = t - self._last_edit.get(key, float("-inf")) >= self.delay_s
        self._last_edit[key] = t
        if key in self._running:
            self._again.add(key)
            return
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if (now or quiet) and timer is None:
            self._start(key)
        else:
            self._timers[key] = loop.call_later(self.delay_s, self._start, key)

    def forget(self, key: str) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._again.discard(key)
        self._last_edit.pop(key, None)

    def _start(self, key: str) -> None:
        self._timers.pop(key, None)
        self._running[key] = asyncio.ensure_future(self._loop(key))

    async def _loop(self, key: str) -> None:
        try:
            while True:
                self._again.discard(key)
                await self._run(key)
                if key not in self._again:
                    return
                await asyncio.sleep(self.delay_s)  # more edits are coming: let them gather
        finally:
            self._running.pop(key, None)

    def in_worker(self, fn, *args):
        """Run `fn(*args)` on the lint thread (awaitable)."""
        return asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)
