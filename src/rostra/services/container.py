"""All services of one running server, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass

from rostra.config import Settings
from rostra.core.sealing import Sealer
from rostra.moderation.decision import Moderator
from rostra.moderation.identity import Hashing
from rostra.moderation.ip_hashing import ip_hasher_for
from rostra.services.accounts import ReaderAccounts
from rostra.services.comments import CommentService
from rostra.services.email_sign_in import EmailSignIn
from rostra.services.identity import ReaderIdentity
from rostra.services.passkeys import Passkeys
from rostra.services.personal_data import PersonalData
from rostra.services.reading import ReadService
from rostra.services.sessions import ReaderSessions
from rostra.services.site_providers import SiteProviders
from rostra.services.sites import SiteService
from rostra.services.tokens import Tokens
from rostra.services.votes import VoteService
from rostra.store.change_bus import ChangeBus, bus_for
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    # Seals the secrets the database keeps, with a key from the configured secret_key.
    sealer: Sealer
    sites: SiteService
    tokens: Tokens
    accounts: ReaderAccounts
    identity: ReaderIdentity
    email_sign_in: EmailSignIn
    passkeys: Passkeys
    site_providers: SiteProviders
    comments: CommentService
    reading: ReadService
    votes: VoteService
    # Tells every other process of this process's changes, and them of theirs.
    bus: ChangeBus | None = None

    @classmethod
    def build(
        cls, settings: Settings, db: Database | None = None, moderator: Moderator | None = None
    ) -> Services:
        db = db or Database(settings.database_url)
        secret = settings.secret_key or db.secret("secret_key")
        tokens = Tokens(secret)
        sites = SiteService(db)
        ips = ip_hasher_for(db, settings.secret_key)
        sealer = Sealer(settings.secret_key)
        accounts = ReaderAccounts(db, tokens, ReaderSessions(db, ips), sealer)
        hashing = Hashing(db.secret("ip_salt"), ips)
        comments = CommentService(
            db, sites, tokens, settings, hashing=hashing, moderator=moderator,
            accounts=accounts,
        )
        services = cls(
            settings=settings, db=db, sealer=sealer, sites=sites, tokens=tokens, accounts=accounts,
            identity=ReaderIdentity(db, accounts, PersonalData(comments)),
            email_sign_in=EmailSignIn(
                db, sites, accounts, ips,
                enabled=bool(settings.smtp_host and settings.public_url),
                max_name=settings.max_name_length),
            passkeys=Passkeys(db, sites, accounts),
            site_providers=SiteProviders(db, sites, sealer),
            comments=comments,
            reading=ReadService(db, sites, settings, hashing.email_salt),
            votes=VoteService(comments),
            bus=bus_for(settings.database_url, settings.redis_url, db),
        )
        db.after_commit.append(services.committed)
        return services

    def committed(self, changes: list[Change]) -> None:
        """Act at once on this process's own changes, as they commit (the bus brings
        them back later, to every process; without a bus, never)."""
        for change in changes:
            if change.kind is ChangeKind.SIGN_IN:
                self.forget_sign_in(change.site_id)

    def forget_sign_in(self, site_id: str | None = None) -> None:
        """Forget what this process remembers of how the site's readers may sign in,
        and of its signed-in readers (every site's with None)."""
        self.site_providers.cache.forget(site_id)
        self.passkeys.cache.forget(site_id)
        # A reader of the site was erased (rostra privacy forget, maybe in another
        # process): a payload naming them makes their account again.
        self.accounts.forget_cached(site_id)
