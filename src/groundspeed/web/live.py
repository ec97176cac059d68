"""Live updates over server-sent events.

One poller per server looks at the database every few seconds (the newest post id, the peaks
and the stories) and wakes every open ``/api/events`` stream when something changed. Each
message is the whole state (``event: state``), not a diff: a browser that reconnects (after a
network cut or a server restart; EventSource retries by itself) compares it with what it shows
and fetches what it missed, so nothing is lost and no server-side memory of clients is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

from ..errors import GroundspeedError
from ..store import views
from .core import Data

KEEPALIVE_SECONDS = 15.0
RETRY_MS = 3000


class Live:
    def __init__(self, data: Data, interval: float) -> None:
        self.data = data
        self.interval = interval
        self.state: dict[str, Any] = {}
        self.version = 0
        self.streams = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def current(self) -> dict[str, Any]:
        try:
            return await self.data.run(views.cursor)
        except GroundspeedError:
            return {"last_post_id": 0, "understood": 0, "peaks": 0, "peaks_at": None, "stories": 0, "stories_at": None}

    def _ensure_polling(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        while self.streams > 0:
            state = await self.current()
            if state != self.state:
                self.state = state
                self.version += 1
                changed, self._changed = self._changed, asyncio.Event()
                changed.set()
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def events(self) -> AsyncIterator[str]:
        """The text of one event stream: the state now, then each change, with keep-alives."""
        self.streams += 1
        try:
            self._ensure_polling()
            state = await self.current()
            yield f"retry: {RETRY_MS}\n" + _message(state)
            sent = state
            while True:
                waiting = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiting.wait(), KEEPALIVE_SECONDS)
                if self.state and self.state != sent:
                    sent = self.state
                    yield _message(sent)
                else:
                    yield ": keep-alive\n\n"
        finally:
            self.streams -= 1

    def response(self, request: Request) -> StreamingResponse:
        return StreamingResponse(
            self.events(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )


def _message(state: dict[str, Any]) -> str:
    return f"event: state\nid: {state.get('last_post_id', 0)}\ndata: {json.dumps(state)}\n\n"
