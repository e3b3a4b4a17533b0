"""Requests and replies between the grader's trusted process and the jailed kernel.

Each side sends frames (``plain.write_frame``) over a pair of pipes. A request carries an
``id``; its reply carries ``reply_to``. While a side waits for its reply it answers the other
side's requests, so calls may nest: a test calls the learner's ``numerical_gradient`` in the
jail, which calls back the test's ``lambda`` in the trusted process, which may call the
learner's ``sigmoid`` in the jail again.

The trusted side reads and writes with a deadline and believes nothing: a frame that breaks
the rules raises ProtocolError, a silent jail raises ChannelTimeout.

Standard library only (and plain.py): the jailed kernel imports this module too.
"""
from __future__ import annotations

import io
import os
import select
import time

from .plain import ProtocolError, read_frame, write_frame

__all__ = ["Channel", "ChannelTimeout", "ChannelClosed"]


class ChannelTimeout(TimeoutError):
    """No answer before the deadline."""


class ChannelClosed(EOFError):
    """The other side has gone (its process ended)."""


POLL = 0.2  # seconds between two looks at a deadline that is not a moment of the clock


def seconds_left(deadline) -> float:
    """What is left before ``deadline``: a time.monotonic() moment, or an object whose ``left()``
    says it (a cell's allowance of CPU time, ``trusted/clock.py``)."""
    if isinstance(deadline, (int, float)):
        return deadline - time.monotonic()
    return deadline.left()


def _wait(deadline, readers: list, writers: list, why: str) -> None:
    """Wait until a descriptor is ready, or raise ChannelTimeout once the deadline has passed."""
    while True:
        left = seconds_left(deadline)
        if left <= 0:
            raise ChannelTimeout(why)
        ready = select.select(readers, writers, [], min(left, POLL))
        if ready[0] or ready[1]:
            return


class _Reader:
    """``read(n)`` on a file descriptor, with an optional deadline (``seconds_left``)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.deadline: float | None = None
        self._buffer = bytearray()

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if self.deadline is not None:
                _wait(self.deadline, [self.fd], [], "no answer in time")
            try:
                chunk = os.read(self.fd, max(size - len(self._buffer), 1 << 16))
            except InterruptedError:  # pragma: no cover - PEP 475 retries for us
                continue
            if not chunk:
                raise ChannelClosed("the other side closed the channel")
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


class _Writer:
    """``write(bytes)`` on a file descriptor, with an optional deadline."""

    def __init__(self, fd: int):
        self.fd = fd
        self.deadline: float | None = None

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self.deadline is not None:
                _wait(self.deadline, [], [self.fd], "the other side stopped reading")
            try:
                written = os.write(self.fd, view[:1 << 16])
            except BrokenPipeError:
                raise ChannelClosed("the other side closed the channel") from None
            view = view[written:]

    def flush(self) -> None:
        pass


class Channel:
    """One end of the conversation. handler(message, blobs) -> (reply, reply_blobs) answers the
    other side's requests; it may itself call ``request``."""

    def __init__(self, read_fd: int, write_fd: int, handler=None, max_bytes: int = 256 * 2**20,
                 nonblocking_writes: bool = False):
        self.reader = _Reader(read_fd)
        self.writer = _Writer(write_fd)
        if nonblocking_writes:
            os.set_blocking(write_fd, False)
        self.handler = handler
        self.max_bytes = max_bytes
        self.next_id = 0
        self.depth = 0

    def send(self, message: dict, blobs: list, deadline: float | None = None) -> None:
        buffer = io.BytesIO()
        write_frame(buffer, message, blobs)
        self.writer.deadline = deadline
        self.writer.write(buffer.getvalue())

    def receive(self, deadline: float | None = None) -> tuple[dict, list]:
        self.reader.deadline = deadline
        return read_frame(self.reader, self.max_bytes)

    def request(self, message: dict, blobs: list, deadline: float | None = None) -> tuple[dict, list]:
        """Send a request and wait for its reply, answering the other side's requests meanwhile."""
        if self.depth > 50:
            raise ProtocolError("calls nested more than 50 deep between the grader and the jail")
        self.next_id += 1
        number = self.next_id
        self.send(dict(message, id=number), blobs, deadline)
        self.depth += 1
        try:
            while True:
                reply, reply_blobs = self.receive(deadline)
                if reply.get("reply_to") == number:
                    return reply, reply_blobs
                if "op" in reply and isinstance(reply.get("id"), int):
                    self.serve(reply, reply_blobs, deadline)
                # anything else is a late reply to a request given up on: dropped
        finally:
            self.depth -= 1

    def serve(self, message: dict, blobs: list, deadline: float | None = None) -> None:
        """Answer one request of the other side."""
        if self.handler is None:
            raise ProtocolError(f"an unexpected request {message.get('op')!r}")
        answer, answer_blobs = self.handler(message, blobs)
        self.send(dict(answer, reply_to=message["id"]), answer_blobs, deadline)
