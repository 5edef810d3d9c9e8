"""Thread keys: one discussion per page, whatever way the page's URL was written."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, never a different page.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid",
        "igshid", "yclid", "twclid", "_ga", "_gl", "ref_src", "ref_url", "amp",
        "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "s_cid", "cmpid",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_KEY_LENGTH = 1000


class ThreadKeyError(ValueError):
    """The page identifier cannot name a thread."""


# Schemes a browser runs or opens in place rather than fetching a page: an identifier
# written with one (an import's ``javascript:`` link) names no thread.
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")

# Unpaired UTF-16 surrogates: no URL or key can be encoded with one.
_SURROGATE = re.compile("[\ud800-\udfff]")

# One DNS label (IDNA-encoded hosts are plain ASCII); underscores occur in real hosts.
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def check_host(host: str) -> str:
    """The host of a URL in canonical form: a DNS name (IDNA-encoded, lower case), an IPv4
    address, or an IPv6 address without brackets. Raises ThreadKeyError for anything else
    (spaces, quotes, angle brackets, a bracketed name that is not an address)."""
    host = host.lower().rstrip(".")
    if not host or len(host) > 253:
        raise ThreadKeyError("empty or overlong host")
    if ":" in host:
        try:
            return str(ipaddress.IPv6Address(host.split("%", 1)[0]))
        except ValueError:
            raise ThreadKeyError(f"not an IPv6 address: {host[:100]!r}") from None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ThreadKeyError(f"not a host name: {host[:100]!r}") from None
    if not all(_LABEL.match(label) for label in host.split(".")):
        raise ThreadKeyError(f"not a host name: {host[:100]!r}")
    return host


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _normalise_path(path: str) -> str:
    # Decode then re-encode so that %7E and ~ (or %C3%A9 and é) name the same page.
    path = quote(unquote(path), safe="/:@!$&'()*+,;=-._~")
    if not path:
        return "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


def normalise_url(url: str) -> str:
    """Canonical absolute URL of a page: lower-case scheme and host, no default port,
    no fragment, no trailing slash, no tracking parameters; other parameters kept in order."""
    raw = url.strip()
    if _SURROGATE.search(raw):
        raise ThreadKeyError("not an http(s) URL: it holds an unpaired surrogate")
    try:
        # urlsplit refuses some malformed hosts itself ("http://[x]/": ValueError).
        parts = urlsplit(raw)
        hostname = parts.hostname
    except ValueError as exc:
        raise ThreadKeyError(f"not an http(s) URL: {raw[:100]!r}") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not hostname:
        raise ThreadKeyError(f"not an http(s) URL: {raw[:100]!r}")
    if parts.username is not None or parts.password is not None:
        raise ThreadKeyError(f"a URL with a user name or password: {raw[:100]!r}")
    host = check_host(hostname)
    try:
        port = parts.port
    except ValueError as exc:
        raise ThreadKeyError(f"bad port in URL: {raw[:100]!r}") from exc
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    )
    return urlunsplit((scheme, netloc, _normalise_path(parts.path), query, ""))


def origin_of(url: str) -> str:
    """scheme://host[:port] of a normalised URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@lru_cache(maxsize=4096)
def thread_key(identifier: str) -> str:
    """The key a thread is stored under (remembered: pages post and read the same few).

    An absolute URL keys by its path and query (so a site that moves domain keeps its
    threads); a path ("/2026/11/story/") is normalised the same way; anything else is an
    explicit id given by the page and is kept as written (trimmed).
    """
    ident = identifier.strip()
    if not ident:
        raise ThreadKeyError("thread identifier is empty")
    if len(ident) > MAX_KEY_LENGTH:
        raise ThreadKeyError(f"thread identifier is longer than {MAX_KEY_LENGTH} characters")
    if _SURROGATE.search(ident):
        raise ThreadKeyError("thread identifier holds an unpaired surrogate")
    if ident.lower().startswith(("http://", "https://")):
        parts = urlsplit(normalise_url(ident))
        return parts.path + (f"?{parts.query}" if parts.query else "")
    if ident.startswith("/"):
        normal = urlsplit(normalise_url("http://x" + ident))
        return normal.path + (f"?{normal.query}" if normal.query else "")
    if "://" in ident or ident.lower().startswith(SCRIPT_SCHEMES):
        raise ThreadKeyError("only http and https URLs can name a thread")
    if any(ord(c) < 32 for c in ident):
        raise ThreadKeyError("thread identifier contains control characters")
    return ident


def public_website(value: str | None) -> str | None:
    """An author's website as readers may follow it (thread pages, feeds): an http(s)
    address, or nothing (an import may bring anything, ``javascript:`` included)."""
    if not value:
        return None
    try:
        return normalise_url(value) if value.strip().lower().startswith(
            ("http://", "https://")) else None
    except ThreadKeyError:
        return None


def http_url(value: str | None) -> str | None:
    """``value`` as written (trimmed) if it is an http(s) URL of a page (one that
    normalise_url takes), else None: what may be kept as a thread's link and shown as
    one (an import may bring anything, ``javascript:`` included)."""
    if not value or not value.strip().lower().startswith(("http://", "https://")):
        return None
    try:
        normalise_url(value)
    except ThreadKeyError:
        return None
    return value.strip()
