"""One SMTP mail transaction driven from the protocol's callbacks, on aiosmtplib's connection.

aiosmtplib connects, greets, starts TLS and logs in; then the connection's transport is lent
to an ``Exchange``, which runs MAIL, RCPT, DATA and the message: each reply arrives in
``data_received``, which checks it and writes the next command at once, and only the
transaction's last reply wakes the sender's coroutine. With aiosmtplib's ``execute_command``
every reply woke the coroutine through a future and a task step (four a message), which cost
the sender about as much CPU as everything the SMTP client needs besides. The commands are
still sent one at a time, each after the previous reply: this is not PIPELINING.

aiosmtplib's own protocol keeps hearing of a lost connection, and gets the transport back for
whatever it does itself (SMTPUTF8 ``sendmail``, QUIT) through ``lent``/``give_back``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator

import aiosmtplib

_LINE_ENDS = re.compile(rb"\r\n|\n|\r(?!\n)")
_PERIOD = re.compile(rb"(?m)^\.")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_REPLY = 32 * 1024  # a reply longer than this is not an SMTP reply: drop the connection

MAIL, RCPT, DATA, BODY, RSET = range(5)


def data_lines(message: bytes) -> bytes:
    """The message as DATA sends it: CRLF line ends, leading dots doubled, the final dot."""
    message = _LINE_ENDS.sub(b"\r\n", message)
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return _PERIOD.sub(b"..", message) + b".\r\n"


class Exchange(asyncio.Protocol):
    """The protocol of an aiosmtplib connection between its own commands."""

    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self.client = client
        self.inner = client.protocol  # aiosmtplib's: told when the connection is lost
        self.transport = client.transport
        self.buffer = bytearray()
        self.waiter: asyncio.Future[str] | None = None
        self.commands: list[bytes] = []
        self.step = MAIL
        self.refusal: Exception | None = None
        self.transport.set_protocol(self)

    # ------------------------------------------------------------ the sender's side

    def transaction(self, sender: str, to: str, message: bytes) -> asyncio.Future[str]:
        """MAIL, RCPT, DATA, the message; the future gives the final reply's text or raises
        aiosmtplib's error for the refusal (after RSET), or SMTPServerDisconnected."""
        if _CONTROL.search(sender) or _CONTROL.search(to):
            raise ValueError("an SMTP address holds a control character")
        if self.transport.is_closing():
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        self.commands = [
            b"MAIL FROM:<%s>\r\n" % sender.encode(),
            b"RCPT TO:<%s>\r\n" % to.encode(),
            b"DATA\r\n",
            data_lines(message),
        ]
        self.sender, self.to = sender, to
        self.step, self.refusal = MAIL, None
        self.buffer.clear()
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(self.commands[MAIL])
        return self.waiter

    @contextlib.contextmanager
    def lent(self) -> Iterator[None]:
        """aiosmtplib's protocol has the connection back for the block."""
        self.give_back()
        try:
            yield
        finally:
            if self.client.transport is self.transport and not self.transport.is_closing():
                self.transport.set_protocol(self)

    def give_back(self) -> None:
        if not self.transport.is_closing():
            self.transport.set_protocol(self.inner)

    # ------------------------------------------------------------ the transport's side

    def data_received(self, data: bytes) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():  # nothing asked (or timed out): not ours to pair
            self.buffer.clear()
            return
        self.buffer += data
        while True:
            reply = self._reply()
            if reply is None:
                return
            self._answer(*reply)
            if self.waiter is None:
                return

    def _reply(self) -> tuple[int, str] | None:
        """The first complete reply in the buffer (removed from it), if any."""
        buffer, start = self.buffer, 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                if len(buffer) > MAX_REPLY:
                    self._fail(aiosmtplib.SMTPServerDisconnected("SMTP reply too long"))
                    self.transport.close()
                return None
            if buffer[start + 3 : start + 4] != b"-":
                break
            start = end + 1
        lines = bytes(buffer[: end + 1]).decode("utf-8", "surrogateescape").splitlines()
        del buffer[: end + 1]
        try:
            code = int(lines[-1][:3])
        except ValueError:
            self._fail(aiosmtplib.SMTPServerDisconnected(f"not an SMTP reply: {lines[-1]!r}"))
            self.transport.close()
            return None
        return code, "\n".join(line[4:].strip() for line in lines)

    def _answer(self, code: int, text: str) -> None:
        step = self.step
        if step == RSET:  # after a refusal; whatever RSET answers, the refusal is the news
            self._fail(self.refusal)
            return
        if code in ((250,), (250, 251), (354,), (250,))[step]:
            if step == BODY:
                self._done(text)
            else:
                self.step = step + 1
                self.transport.write(self.commands[step + 1])
            return
        if step == MAIL:
            refusal = aiosmtplib.SMTPSenderRefused(code, text, self.sender)
        elif step == RCPT:
            refusal = aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(code, text, self.to)]
            )
        else:
            refusal = aiosmtplib.SMTPDataError(code, text)
        if step == BODY:  # the transaction is over: nothing to reset
            self._fail(refusal)
            return
        self.refusal, self.step = refusal, RSET
        self.transport.write(b"RSET\r\n")

    def _done(self, text: str) -> None:
        waiter, self.waiter = self.waiter, None
        if not waiter.done():
            waiter.set_result(text)

    def _fail(self, exc: BaseException) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def eof_received(self) -> bool:
        self._fail(aiosmtplib.SMTPServerDisconnected("Unexpected EOF received"))
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        lost = aiosmtplib.SMTPServerDisconnected("Connection lost")
        lost.__cause__ = exc
        self._fail(lost)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()
