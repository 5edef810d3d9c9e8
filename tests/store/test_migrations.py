"""Migrations create exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import SAWarning

from rostra.store import migrate
from rostra.store.db import Database
from rostra.store.tables import metadata
from tests.conftest import POSTGRES_URL, create_postgres_database, require


def _load_all_tables() -> None:
    """Feature modules declare their tables on the shared metadata when imported."""
    import importlib
    import pkgutil

    import rostra.store

    for module in pkgutil.iter_modules(rostra.store.__path__):
        if module.name.endswith("_tables"):
            importlib.import_module(f"rostra.store.{module.name}")


def _assert_schema_matches(db: Database) -> None:
    migrate.upgrade(db)
    assert migrate.is_current(db)
    _load_all_tables()
    with db.engine.connect() as conn:
        with warnings.catch_warnings():
            # SQLite's reflection skips indexes on expressions, and so does the
            # comparison (each with a warning): they are checked by name below.
            warnings.filterwarnings("ignore", EXPRESSION_INDEX_SKIPPED, SAWarning)
            warnings.filterwarnings("ignore", EXPRESSION_INDEX_NOT_COMPARED, UserWarning)
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        present = _index_names(conn)
    # SQLite cannot tell a BigInteger from an Integer; ignore pure type noise there.
    meaningful = [d for d in diff if not (isinstance(d, list) and d and d[0][0] == "modify_type")
                  and not _expression_index_told_apart(d)]
    assert meaningful == [], f"migrations and tables differ: {meaningful}"
    assert EXPRESSION_INDEXES <= present, f"missing: {EXPRESSION_INDEXES - present}"


EXPRESSION_INDEX_SKIPPED = "Skipped unsupported reflection of expression-based index"
EXPRESSION_INDEX_NOT_COMPARED = "autogenerate skipping metadata-specified expression-based index"
EXPRESSION_INDEXES = {"ix_comments_author_email_lower", "ix_comments_thread_top_rank",
                      "ix_reader_accounts_email_lower"}


def _expression_index_told_apart(d: Any) -> bool:
    """PostgreSQL reflects an index on a CASE expression as text, which the comparison
    then takes for a different index (a remove and an add of the same name)."""
    return (isinstance(d, tuple) and d[0] in ("remove_index", "add_index")
            and d[1].name in EXPRESSION_INDEXES)


def _index_names(conn: Any) -> set[str]:
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    return {row[0] for row in conn.exec_driver_sql(sql)}


def test_it_migrates_sqlite_to_the_declared_schema(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    try:
        _assert_schema_matches(db)
        migrate.upgrade(db)  # a second run changes nothing
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


@pytest.mark.postgres
def test_it_migrates_postgres_to_the_declared_schema() -> None:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    db = Database(url)
    try:
        _assert_schema_matches(db)
    finally:
        db.dispose()
        drop()


def _webhook_secrets_survive(db: Database) -> None:
    """Migration 0008 stores old webhook secrets as whsec_ + base64 of the same key, and
    its downgrade gives them back."""
    import base64
    from datetime import UTC, datetime

    from sqlalchemy import text

    from rostra.notify.webhooks import secret_key

    old = ["a-long-shared-secret", "whsec_looks-standard-but-is-not", "ключ-ключ-ключ-ключ-🔑" * 8]
    migrate.upgrade(db, "0007")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO sites (id, name, origins, settings, created_at) "
                          "VALUES ('m', 'M', '[]', '{}', :now)"), {"now": datetime.now(UTC)})
        for secret in old:
            conn.execute(text("INSERT INTO notify_webhooks (site_id, url, secret, events, "
                              "active, created_at) VALUES ('m', 'https://hooks.example/', "
                              ":secret, '[]', true, :now)"),
                         {"secret": secret, "now": datetime.now(UTC)})
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        stored = list(conn.execute(text("SELECT secret FROM notify_webhooks ORDER BY id"))
                      .scalars())
    assert all(s.startswith("whsec_") for s in stored)
    assert [secret_key(s) for s in stored] == [s.encode() for s in old]
    random_key = "whsec_" + base64.b64encode(bytes(range(200, 232))).decode()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE notify_webhooks SET secret = :s WHERE secret = :old"),
                     {"s": random_key, "old": stored[0]})
    cfg = migrate.alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT secret, active FROM notify_webhooks ORDER BY id")).all()
    # A random key has no old form: that webhook is switched off rather than mis-signed.
    assert [(s, bool(a)) for s, a in rows] == [
        (random_key, False), (old[1], True), (old[2], True)]


def test_it_keeps_webhook_secrets_through_migration_0008(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    try:
        _webhook_secrets_survive(db)
    finally:
        db.dispose()


@pytest.mark.postgres
def test_it_keeps_webhook_secrets_through_migration_0008_on_postgres() -> None:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    db = Database(url)
    try:
        _webhook_secrets_survive(db)
    finally:
        db.dispose()
        drop()


def _downgrades_to_nothing_and_back(db: Database) -> None:
    """Every migration's downgrade runs (head to base), leaves no table of ours behind,
    and the upgrades then rebuild exactly the declared schema."""
    from sqlalchemy import inspect

    migrate.upgrade(db)
    cfg = migrate.alembic_config(db)
    for target in ("-1", "base"):  # the newest step alone, then all the others
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, target)
    with db.engine.connect() as conn:
        left = set(inspect(conn).get_table_names()) - {"alembic_version"}
    assert left == set(), f"downgrades left tables behind: {sorted(left)}"
    assert not migrate.is_current(db)
    _assert_schema_matches(db)


def test_it_downgrades_every_migration_on_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'd.sqlite3'}")
    try:
        _downgrades_to_nothing_and_back(db)
    finally:
        db.dispose()


@pytest.mark.postgres
def test_it_downgrades_every_migration_on_postgres() -> None:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    db = Database(url)
    try:
        _downgrades_to_nothing_and_back(db)
    finally:
        db.dispose()
        drop()


def _email_lookup_plan(db: Database) -> str:
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # a small table: ask if it can
            sql = "EXPLAIN SELECT id FROM comments WHERE lower(author_email) = 'a@example.org'"
        else:
            sql = ("EXPLAIN QUERY PLAN SELECT id FROM comments "
                   "WHERE lower(author_email) = 'a@example.org'")
        return " ".join(str(row[-1]) for row in conn.exec_driver_sql(sql))


def test_comments_are_found_by_address_through_an_index_on_sqlite(tmp_path: Path) -> None:
    # Claiming, exporting and erasing a reader's comments compare lower(author_email).
    db = Database(f"sqlite:///{tmp_path / 'e.sqlite3'}")
    try:
        assert "USING INDEX ix_comments_author_email_lower" in _email_lookup_plan(db)
    finally:
        db.dispose()


@pytest.mark.postgres
def test_comments_are_found_by_address_through_an_index_on_postgres() -> None:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    db = Database(url)
    try:
        assert "ix_comments_author_email_lower" in _email_lookup_plan(db)
    finally:
        db.dispose()
        drop()


def _totp_column_widens(db: Database) -> None:
    """Migration 0107 makes room for a sealed TOTP secret; its downgrade refuses while
    one is stored (the version before cannot read it), and narrows the column once the
    secrets are plain again."""
    from datetime import UTC, datetime

    from sqlalchemy import inspect, text

    from rostra.core.sealing import Purpose, Sealer

    plain = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    sealed = Sealer("a-configured-secret-key").seal(plain, Purpose.TOTP)
    assert len(sealed) > 64

    def length() -> int | None:
        with db.engine.connect() as conn:
            [column] = [c for c in inspect(conn).get_columns("staff_users")
                        if c["name"] == "totp_secret"]
        return getattr(column["type"], "length", None)

    migrate.upgrade(db, "0106")
    assert length() == 64
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO staff_users (name, password_hash, is_admin, "
                          "totp_secret, disabled, created_at) VALUES ('ed', 'x', false, "
                          ":totp, false, :now)"), {"totp": plain, "now": datetime.now(UTC)})
    migrate.upgrade(db)
    assert length() == 255
    with db.engine.begin() as conn:  # PostgreSQL refused this before (varchar(64))
        conn.execute(text("UPDATE staff_users SET totp_secret = :s"), {"s": sealed})
    cfg = migrate.alembic_config(db)
    with pytest.raises(RuntimeError, match="rostra secrets unseal"):
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0106")
    assert migrate.is_current(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE staff_users SET totp_secret = :s"), {"s": plain})
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0106")
    assert length() == 64
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT totp_secret FROM staff_users")).scalar() == plain


def test_it_widens_the_totp_column_for_sealed_secrets_on_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 't.sqlite3'}")
    try:
        _totp_column_widens(db)
    finally:
        db.dispose()


@pytest.mark.postgres
def test_it_widens_the_totp_column_for_sealed_secrets_on_postgres() -> None:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    db = Database(url)
    try:
        _totp_column_widens(db)
    finally:
        db.dispose()
        drop()


def _index_built_by_hand_first(db: Database, concurrently: bool) -> None:
    """An operator builds 0106's index ahead (on PostgreSQL without locking writes, as
    docs/deployment.md says); the migration takes it as done instead of failing."""
    from sqlalchemy import text

    cfg = migrate.alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0105")
    sql = ("CREATE INDEX {} IF NOT EXISTS ix_comments_author_email_lower "
           "ON comments (lower(author_email))").format("CONCURRENTLY" if concurrently else "")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(sql))
    migrate.upgrade(db)
    assert "ix_comments_author_email_lower" in _email_lookup_plan(db)


def test_an_index_built_ahead_by_hand_is_taken_as_done_on_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    try:
        _index_built_by_hand_first(db, concurrently=False)
    finally:
        db.dispose()


@pytest.mark.postgres
def test_an_index_built_ahead_concurrently_is_taken_as_done_on_postgres() -> None:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    db = Database(url)
    try:
        _index_built_by_hand_first(db, concurrently=True)
    finally:
        db.dispose()
        drop()


def _consent_per_subscription(db: Database) -> None:
    """Migration 0108 gives each subscription its own confirmation: those of an address
    confirmed before stay confirmed, the others wait. Its downgrade drops the
    subscriptions still waiting under a confirmed address (the version before would
    switch them on)."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    migrate.upgrade(db, "0107")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO sites (id, name, origins, settings, created_at) "
                          "VALUES ('s', 'S', '[]', '{}', :at)"), {"at": at})
        conn.execute(text("INSERT INTO notify_addresses (id, email, language, created_at, "
                          "confirmed_at) VALUES (1, 'yes@x.example', 'en', :at, :at), "
                          "(2, 'no@x.example', 'en', :at, NULL)"), {"at": at})
        conn.execute(text("INSERT INTO notify_subscriptions (id, address_id, site_id, "
                          "thread_key, kind, language, created_at) VALUES "
                          "(1, 1, 's', '/a', 'thread', 'en', :at), "
                          "(2, 2, 's', '/a', 'thread', 'en', :at)"), {"at": at})
    migrate.upgrade(db)

    def confirmed() -> dict[int, bool]:
        with db.engine.connect() as conn:
            return {int(r[0]): r[1] is not None for r in conn.execute(text(
                "SELECT id, confirmed_at FROM notify_subscriptions ORDER BY id"))}

    assert confirmed() == {1: True, 2: False}
    with db.engine.begin() as conn:  # a stranger's, waiting under a confirmed address
        conn.execute(text("INSERT INTO notify_subscriptions (id, address_id, site_id, "
                          "thread_key, kind, language, created_at, voter_id) VALUES "
                          "(3, 1, 's', '/b', 'thread', 'de', :at, 'v')"), {"at": at})
    cfg = migrate.alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0107")
    with db.engine.connect() as conn:
        left = [int(r[0]) for r in conn.execute(text(
            "SELECT id FROM notify_subscriptions ORDER BY id"))]
    assert left == [1, 2]


def test_it_confirms_each_subscription_on_its_own_on_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 't.sqlite3'}")
    try:
        _consent_per_subscription(db)
    finally:
        db.dispose()


@pytest.mark.postgres
def test_it_confirms_each_subscription_on_its_own_on_postgres() -> None:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    db = Database(url)
    try:
        _consent_per_subscription(db)
    finally:
        db.dispose()
        drop()


def test_it_keeps_accounts_and_what_names_them_through_migration_0114(
        tmp_path: Path) -> None:
    # 0114 rebuilds reader_accounts (SQLite: AUTOINCREMENT), which deletes the rows of
    # the tables naming an account by ON DELETE CASCADE: they are put back. After it, an
    # erased newest account's id is not given to the next one.
    from datetime import UTC, datetime

    from sqlalchemy import text

    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    db = Database(f"sqlite:///{tmp_path / 't.sqlite3'}")
    try:
        migrate.upgrade(db, "0113")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO sites (id, name, origins, settings, created_at) "
                              "VALUES ('s', 'S', '[]', '{}', :at)"), {"at": at})
            conn.execute(text("INSERT INTO reader_accounts (id, site_id, subject, name, "
                              "created_at, seen_at) VALUES (1, 's', 'ana', 'Ana', :at, :at),"
                              " (2, 's', 'ben', 'Ben', :at, :at)"), {"at": at})
            conn.execute(text("INSERT INTO reader_sessions (token_hash, account_id, site_id,"
                              " method, created_at, seen_at, expires_at) VALUES "
                              "('t1', 1, 's', 'email', :at, :at, :at)"), {"at": at})
            conn.execute(text("INSERT INTO reader_sign_in_links (site_id, email, page_url, "
                              "created_at, expires_at, account_id) VALUES "
                              "('s', 'a@x.example', '/p', :at, :at, 1), "
                              "('s', 'c@x.example', '/p', :at, :at, NULL)"), {"at": at})
            conn.execute(text("INSERT INTO passkeys (credential_hash, credential_id, "
                              "public_key, sign_count, account_id, rp_id, name, created_at) "
                              "VALUES ('h', 'c', x'00', 0, 2, 'x.example', 'Key', :at)"),
                         {"at": at})
        migrate.upgrade(db)

        def rows(sql: str) -> list[tuple[Any, ...]]:
            with db.engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(sql))]

        assert rows("SELECT id, subject FROM reader_accounts ORDER BY id") == [
            (1, "ana"), (2, "ben")]
        assert rows("SELECT token_hash, account_id FROM reader_sessions") == [("t1", 1)]
        assert rows("SELECT email, account_id FROM reader_sign_in_links ORDER BY id") == [
            ("a@x.example", 1), ("c@x.example", None)]
        assert rows("SELECT name, account_id FROM passkeys") == [("Key", 2)]
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM reader_accounts WHERE id = 2"))
            conn.execute(text("INSERT INTO reader_accounts (site_id, subject, name, "
                              "created_at, seen_at) VALUES ('s', 'cy', 'Cy', :at, :at)"),
                         {"at": at})
        assert rows("SELECT id, subject FROM reader_accounts ORDER BY id") == [
            (1, "ana"), (3, "cy")]
        assert rows("SELECT count(*) FROM passkeys") == [(0,)]
    finally:
        db.dispose()


def _accounts_and_staff_at_0104(db: Database) -> None:
    """A database at 0104 (before 0105 rebuilt reader_accounts on SQLite, and 0107,
    0110, 0111 staff_users) with a reader's session, sign-in link and passkey, and a
    staff member's role, session and passkey."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    migrate.upgrade(db, "0104")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO sites (id, name, origins, settings, created_at) "
                          "VALUES ('s', 'S', '[]', '{}', :at)"), {"at": at})
        conn.execute(text("INSERT INTO reader_accounts (id, site_id, subject, name, email, "
                          "email_verified, created_at, seen_at) VALUES (1, 's', "
                          "'google:17', 'Ana', 'ana@x.example', true, :at, :at)"),
                     {"at": at})
        conn.execute(text("INSERT INTO reader_sessions (token_hash, account_id, site_id,"
                          " method, created_at, seen_at, expires_at) VALUES "
                          "('t1', 1, 's', 'oidc', :at, :at, :at)"), {"at": at})
        conn.execute(text("INSERT INTO reader_sign_in_links (site_id, email, page_url, "
                          "created_at, expires_at, account_id) VALUES "
                          "('s', 'ana@x.example', '/p', :at, :at, 1)"), {"at": at})
        conn.execute(text("INSERT INTO staff_users (id, name, password_hash, is_admin, "
                          "disabled, created_at) VALUES (5, 'ed', 'x', false, false, :at)"),
                     {"at": at})
        conn.execute(text("INSERT INTO staff_roles (user_id, site_id, role) "
                          "VALUES (5, 's', 'owner')"))
        conn.execute(text("INSERT INTO staff_sessions (token_hash, user_id, created_at, "
                          "expires_at) VALUES ('st', 5, :at, :at)"), {"at": at})
        conn.execute(text("INSERT INTO passkeys (credential_hash, credential_id, "
                          "public_key, sign_count, account_id, staff_user_id, rp_id, name, "
                          "created_at) VALUES ('h1', 'c1', x'00', 0, 1, NULL, 'x.example', "
                          "'Reader key', :at), ('h2', 'c2', x'00', 0, NULL, 5, 'x.example',"
                          " 'Staff key', :at)"), {"at": at})
    migrate.upgrade(db)


def _rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_readers_keep_sessions_links_and_passkeys_through_migration_0105(
        tmp_path: Path) -> None:
    # 0105 adds a foreign key to reader_accounts, which SQLite can only do by rebuilding
    # the table: dropping the old one deleted, by ON DELETE CASCADE, every reader's
    # sessions, sign-in links and passkeys.
    db = Database(f"sqlite:///{tmp_path / 't.sqlite3'}")
    try:
        _accounts_and_staff_at_0104(db)
        assert _rows(db, "SELECT id, subject FROM reader_accounts") == [(1, "google:17")]
        assert _rows(db, "SELECT token_hash, account_id FROM reader_sessions") == [("t1", 1)]
        assert _rows(db, "SELECT email, account_id FROM reader_sign_in_links") == [
            ("ana@x.example", 1)]
        assert _rows(db, "SELECT name, account_id FROM passkeys WHERE account_id IS NOT NULL"
                     ) == [("Reader key", 1)]
    finally:
        db.dispose()


def test_staff_keep_roles_sessions_and_passkeys_through_later_migrations(
        tmp_path: Path) -> None:
    # 0107, 0110 and 0111 change staff_users, which SQLite may do by rebuilding it; its
    # roles, sessions and passkeys (ON DELETE CASCADE) must not go with the old table.
    db = Database(f"sqlite:///{tmp_path / 't.sqlite3'}")
    try:
        _accounts_and_staff_at_0104(db)
        assert _rows(db, "SELECT user_id, site_id, role FROM staff_roles") == [
            (5, "s", "owner")]
        assert _rows(db, "SELECT token_hash, user_id FROM staff_sessions") == [("st", 5)]
        assert _rows(db, "SELECT name, staff_user_id FROM passkeys "
                     "WHERE staff_user_id IS NOT NULL") == [("Staff key", 5)]
    finally:
        db.dispose()


def test_0119_keeps_subscriptions_notices_and_what_names_them(tmp_path: Path) -> None:
    # 0119 rebuilds the tables whose ids emailed links carry, with AUTOINCREMENT: their
    # rows and the rows naming them (followed comments, a notice's statement) stay, and
    # a deleted newest row's id is not given again.
    from datetime import UTC, datetime

    from sqlalchemy import text

    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    db = Database(f"sqlite:///{tmp_path / 't.sqlite3'}")
    try:
        migrate.upgrade(db, "0118")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO sites (id, name, origins, settings, created_at) "
                              "VALUES ('s', 'S', '[]', '{}', :at)"), {"at": at})
            conn.execute(text("INSERT INTO threads (id, site_id, key, url, title, created_at,"
                              " updated_at, comment_count, top_level_count, closed) VALUES "
                              "(1, 's', '/t', '/t', 'T', :at, :at, 1, 1, false)"), {"at": at})
            conn.execute(text("INSERT INTO comments (id, thread_id, depth, state, author_name,"
                              " text, html, created_at, score, upvotes, downvotes, "
                              "reply_count) VALUES (1, 1, 0, 'approved', 'Ana', 'x', 'x', "
                              ":at, 0, 0, 0, 0)"), {"at": at})
            conn.execute(text("INSERT INTO notify_addresses (id, email, language, created_at)"
                              " VALUES (1, 'a@x.example', 'en', :at)"), {"at": at})
            conn.execute(text("INSERT INTO notify_subscriptions (id, address_id, site_id, "
                              "thread_key, kind, language, created_at) VALUES "
                              "(1, 1, 's', '/t', 'replies', 'en', :at)"), {"at": at})
            conn.execute(text("INSERT INTO notify_subscription_comments (subscription_id, "
                              "comment_id) VALUES (1, 1)"))
            conn.execute(text("INSERT INTO dsa_notices (id, site_id, comment_id, ground, "
                              "ground_label, explanation, good_faith, created_at, deadline_at,"
                              " status) VALUES (1, 's', 1, 'hate', 'Hate', 'why', true, :at, "
                              ":at, 'decided')"), {"at": at})
            conn.execute(text("INSERT INTO dsa_statements (id, site_id, comment_id, state, "
                              "restriction, source, notice_id, ground_kind, ground, facts, "
                              "automated_detection, automated_decision, created_at) VALUES "
                              "(1, 's', 1, 'rejected', 'removal', 'notice', 1, 'illegal', "
                              "'hate', 'facts', false, false, :at)"), {"at": at})
        migrate.upgrade(db)
        assert _rows(db, "SELECT id, site_id FROM notify_subscriptions") == [(1, "s")]
        assert _rows(db, "SELECT subscription_id, comment_id FROM "
                     "notify_subscription_comments") == [(1, 1)]
        assert _rows(db, "SELECT id, notice_id FROM dsa_statements") == [(1, 1)]
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM notify_subscriptions"))
            conn.execute(text("INSERT INTO notify_subscriptions (address_id, site_id, "
                              "thread_key, kind, language, created_at) VALUES "
                              "(1, 's', '/u', 'thread', 'en', :at)"), {"at": at})
        assert _rows(db, "SELECT id FROM notify_subscriptions") == [(2,)]
    finally:
        db.dispose()


def test_rows_naming_missing_rows_from_before_do_not_stop_an_upgrade(tmp_path: Path) -> None:
    # Migrations run with foreign keys off and refuse to commit rows they left naming
    # rows that are not there; a database that had such rows already (written with
    # enforcement off, by a tool or an old version) still upgrades, and keeps them.
    db = Database(f"sqlite:///{tmp_path / 't.sqlite3'}")
    try:
        migrate.upgrade(db, "0118")
        with db.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")
            raw.execute("INSERT INTO notify_subscription_comments (subscription_id, "
                        "comment_id) VALUES (99, 98)")
            raw.commit()
            raw.execute("PRAGMA foreign_keys=ON")
        migrate.upgrade(db)
        assert migrate.is_current(db)
        assert _rows(db, "SELECT subscription_id, comment_id FROM "
                     "notify_subscription_comments") == [(99, 98)]
    finally:
        db.dispose()
