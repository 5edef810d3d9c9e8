"""An address is one person in any case: Ed@Example.COM and ed@example.com, and
ÉD@BÜCHER.example and éd@bücher.example, are found, exported and erased together (SQLite's
own lower() folds ASCII letters only). Plus-addressing is not merged:
ed+news@example.com is an address of its own. SQLite and PostgreSQL."""

from __future__ import annotations

from rostra.config import Settings
from rostra.services.comments import NewComment, RequestContext
from rostra.services.container import Services
from rostra.services.personal_data import PersonalData
from rostra.store import migrate
from rostra.store.db import Database

TYPED = ["Ed@Example.COM", "ÉD@BÜCHER.example", "ed+news@example.com", "Ünal@Example.org"]


def test_an_address_is_found_in_any_case_and_a_plus_address_is_its_own(
        database_url: str) -> None:
    db = Database(database_url)
    try:
        migrate.upgrade(db)
        services = Services.build(Settings(database_url=database_url, secret_key="p",
                                           classifier="off"), db)
        services.sites.create("gazette", "Gazette", ["https://news.example"])
        for email in TYPED:
            services.comments.post(NewComment(thread="/a/", site="gazette", name="Ed",
                                              email=email, text=f"as {email}"),
                                   RequestContext(ip="203.0.113.9"))
        personal = PersonalData(services.comments)

        def found(address: str) -> list[str]:
            return [c["text"] for c in personal.export(address)["comments"]]

        assert found("ed@example.com") == ["as Ed@Example.COM"]
        assert found("ED@EXAMPLE.COM") == ["as Ed@Example.COM"]
        assert found("éd@bücher.example") == ["as ÉD@BÜCHER.example"]
        assert found("Éd@Bücher.Example") == ["as ÉD@BÜCHER.example"]
        assert found("ed+news@example.com") == ["as ed+news@example.com"]
        done = personal.forget("ünal@example.org", actor="test")
        assert done["comments"] == 1
        assert found("ÜNAL@EXAMPLE.ORG") == []
        assert found("ed+news@example.com") == ["as ed+news@example.com"]
    finally:
        db.dispose()
