"""The email channel: building a message, and sending it over SMTP with aiosmtplib."""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib

from rostra.config import Settings
from rostra.notify.model import TransportError
from rostra.notify.templates import RenderedEmail

log = logging.getLogger("rostra.notify")


def build_message(
    rendered: RenderedEmail,
    *,
    sender: str,
    to: str,
    unsubscribe_url: str | None = None,
    language: str | None = None,
) -> EmailMessage:
    """A multipart/alternative (text + HTML) message. With ``unsubscribe_url`` it
    carries RFC 8058 one-click unsubscribe headers (the URL answers POST)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    # Tell autoresponders not to answer (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    if language:  # after the body: set_content() drops Content-* headers
        # The language the text is in: English for one asked for that has no catalog.
        message["Content-Language"] = rendered.language or language
    return message


class SmtpTransport:
    """Sends one message to one recipient; raises TransportError(permanent=…)."""

    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout

    async def send(self, message: EmailMessage, recipient: str) -> None:
        s = self.settings
        if not s.smtp_host:
            raise TransportError("email is not configured (smtp_host is empty)", permanent=True)
        try:
            await aiosmtplib.send(
                message,
                sender=parseaddr(s.mail_from)[1] or s.mail_from,
                recipients=[recipient],
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                use_tls=s.smtp_security == "tls",
                start_tls=s.smtp_security == "starttls",
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            # RCPT TO refused: this is about the reader's address, so a 5xx bounces it.
            codes = [r.code for r in exc.recipients]
            bounced = bool(codes) and all(500 <= c < 600 for c in codes)
            detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            raise TransportError(f"recipient refused: {detail}", bounced=bounced) from exc
        except aiosmtplib.SMTPSenderRefused as exc:
            error = f"SMTP {exc.code} {exc.message}"
            if exc.code == 552 or _status(exc.message) == (5, 3, 4):
                # MAIL FROM carries the message's SIZE: this message is too big.
                raise TransportError(error, permanent=True) from exc
            if 500 <= exc.code < 600:
                # Our own sender refused: the operator's mistake, not the reader's. Kept
                # and retried, so that nothing is lost once mail_from is fixed.
                log.error("the SMTP server %s refuses the sender %s: %s; fix mail_from "
                          "(messages are kept and retried)", s.smtp_host, exc.sender, error)
            raise TransportError(error) from exc
        except aiosmtplib.SMTPDataError as exc:
            # A refused message (size, content, policy) fails alone; only an enhanced
            # status about the recipient's mailbox bounces the address.
            raise TransportError(f"SMTP {exc.code} {exc.message}",
                                 permanent=500 <= exc.code < 600,
                                 bounced=500 <= exc.code < 600
                                 and _about_recipient(_status(exc.message))) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx elsewhere in the session: the server will not take this message, but it
            # says nothing of the recipient. Refused credentials or EHLO: retried.
            permanent = 500 <= exc.code < 600 and not isinstance(
                exc, (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPHeloError)
            )
            raise TransportError(f"SMTP {exc.code} {exc.message}", permanent=permanent) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransportError(f"SMTP: {type(exc).__name__}: {exc}") from exc


_ENHANCED = re.compile(r"\s*([245])\.(\d{1,3})\.(\d{1,3})(?!\S)")


def _status(message: str) -> tuple[int, ...]:
    """The enhanced status code (RFC 3463) that opens an SMTP reply's text, or ()."""
    found = _ENHANCED.match(message)
    return tuple(int(part) for part in found.groups()) if found else ()


def _about_recipient(status: tuple[int, ...]) -> bool:
    """Whether a status speaks of the recipient's address or mailbox: X.1.x (but X.1.7
    and X.1.8, the sender's address), X.2.1 (disabled) and X.2.2 (full)."""
    if status[:2] == (5, 1):
        return status[2] not in (7, 8)
    return status in ((5, 2, 1), (5, 2, 2))
