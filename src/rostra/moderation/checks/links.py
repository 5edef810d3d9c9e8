"""Links: too many links hold a comment; a link to a blocked domain marks it spam."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action

# Links as readers write them: with a scheme, starting with www., or a bare domain with a
# path ("spam.example/buy"). Markdown links carry a scheme, so they are found too.
LINK = re.compile(
    r"(?:https?://|www\.)[^\s<>()\[\]\"']+"
    r"|\b(?:[a-z0-9-]{1,63}\.)+[a-z]{2,24}/[^\s<>()\[\]\"']*",
    re.IGNORECASE,
)
HOST = re.compile(r"^(?:https?://)?(?:[^@/\s]*@)?([^/:?#\s]+)", re.IGNORECASE)
# Every LINK has a "/" or "www.": most comments have neither, and LINK's bare-domain
# branch tries every word of them.
_WWW = re.compile(r"www\.", re.IGNORECASE)


def hosts_of(text: str) -> list[str]:
    """The host of each link in ``text``, lower case, in order."""
    if "/" not in text and not _WWW.search(text):
        return []
    hosts = []
    for match in LINK.finditer(text):
        host = HOST.match(match.group(0))
        if host:
            hosts.append(host.group(1).lower().rstrip("."))
    return hosts


def is_under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


class LinkCheck:
    name = "links"

    def run(self, item: Inspection) -> Iterable[Finding]:
        policy = item.policy
        hosts = hosts_of(item.draft.text)
        if item.draft.author_website:
            website_host = HOST.match(item.draft.author_website)
            extra = [website_host.group(1).lower()] if website_host else []
        else:
            extra = []
        blocked = sorted({
            domain for host in hosts + extra for domain in policy.blocked_domains
            if is_under(host, domain)
        })
        if blocked:
            yield finding(
                self.name, Action.SPAM, "blocked_domain",
                f"links to blocked domain(s): {', '.join(blocked)}", float(len(blocked)),
            )
        limit = policy.thresholds.max_links
        if limit and len(hosts) > limit:
            yield finding(
                self.name, Action.HOLD, "too_many_links",
                f"{len(hosts)} links, more than the {limit} published unseen",
                float(len(hosts)),
            )
