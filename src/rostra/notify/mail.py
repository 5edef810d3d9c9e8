"""The email channel: building a message, and sending it over SMTP with aiosmtplib."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib

from rostra.config import Settings
from rostra.notify.model import TransportError
from rostra.notify.templates import RenderedEmail


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
        message["Content-Language"] = language
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
            codes = [r.code for r in exc.recipients]
            permanent = bool(codes) and all(500 <= c < 600 for c in codes)
            detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            raise TransportError(f"recipient refused: {detail}", permanent=permanent) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx to MAIL/RCPT/DATA: the server will not take this message, ever.
            permanent = 500 <= exc.code < 600 and not isinstance(
                exc, (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPHeloError)
            )
            raise TransportError(f"SMTP {exc.code} {exc.message}", permanent=permanent) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransportError(f"SMTP: {type(exc).__name__}: {exc}") from exc
