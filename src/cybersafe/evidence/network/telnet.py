"""Just enough telnet for a probe: refuse every option once, strip negotiation, collect text, never hang.

A peer may flood option negotiation and never read (a broken or hostile device). The client answers each
option request at most once (RFC 1143's rule against negotiation loops), reads at most ``MAX_TEXT`` bytes
per wait, and every read and write has the session's timeout.
"""

from __future__ import annotations

import asyncio
import re

from cybersafe.evidence.network.session import ProbeSession

IAC, SE, SB = 0xFF, 240, 250
WILL, WONT, DO, DONT = 251, 252, 253, 254
MAX_TEXT = 64 * 1024  # bytes read while waiting for one prompt; a flood past it ends the wait


class TelnetClient:
    def __init__(self, session: ProbeSession, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.session = session
        self.reader = reader
        self.writer = writer
        self._answered: set[tuple[int, int]] = set()

    def strip(self, data: bytes) -> tuple[str, bytes]:
        """Text without negotiation, and the refusals to send (each option request answered once)."""
        out = bytearray()
        replies = bytearray()
        i = 0
        while i < len(data):
            byte = data[i]
            if byte != IAC or i + 1 >= len(data):
                out.append(byte)
                i += 1
                continue
            command = data[i + 1]
            if command in (WILL, WONT, DO, DONT) and i + 2 < len(data):
                replies += self._refuse(command, data[i + 2])
                i += 3
            elif command == SB:  # subnegotiation: skip to IAC SE
                end = data.find(bytes([IAC, SE]), i)
                i = len(data) if end < 0 else end + 2
            elif command == IAC:  # an escaped 0xFF data byte
                out.append(IAC)
                i += 2
            else:
                i += 2
        return out.decode("latin-1"), bytes(replies)

    def _refuse(self, command: int, option: int) -> bytes:
        if command not in (DO, WILL) or (command, option) in self._answered:
            return b""
        self._answered.add((command, option))
        return bytes([IAC, WONT if command == DO else DONT, option])

    async def read_until(
        self, pattern: re.Pattern[str], timeout: float, *, anywhere: re.Pattern[str] | None = None
    ) -> str:
        """Text until ``pattern`` matches its end (or ``anywhere`` matches anywhere), the peer closes, the
        timeout passes or ``MAX_TEXT`` bytes came in."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        collected = ""
        received = 0
        while received < MAX_TEXT:
            tail = collected.rstrip("\x00").rstrip(" ")
            if pattern.search(tail) or (anywhere is not None and anywhere.search(collected)):
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                chunk = await asyncio.wait_for(self.reader.read(1024), remaining)
            except TimeoutError:
                break
            if not chunk:
                break
            received += len(chunk)
            text, replies = self.strip(chunk)
            collected += text
            if replies:
                await self.session.send(self.writer, replies)
        return collected

    async def send_line(self, line: str) -> None:
        await self.session.send(self.writer, line.encode("latin-1") + b"\r\n")


def last_line(text: str) -> str:
    lines = text.strip("\x00 \r\n").splitlines()
    return lines[-1] if lines else ""
