"""An import into a live PostgreSQL survives a deadlock (with the site's own traffic) or
a connection lost on a statement (a restart or failover): each of its transactions ran
once, and such a failure undid the whole run. The batch, the run's end and the undoing
of a run now run again, and the run says what it did once, not what each try did."""

from __future__ import annotations

from pathlib import Path

import pytest
from import_builders import DisqusPost, DisqusThread, write_disqus
from import_helpers import Rostra, comments_of, counts, thread_by_key
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from tests.conftest import CONNECTION_LOST, DEADLOCK, first_try_fails

from rostra.store.import_tables import import_runs

pytestmark = pytest.mark.postgres

FAILURES = [DEADLOCK, CONNECTION_LOST]
IDS = ["deadlock", "lost on the statement"]
POSTS = 30


def _file(tmp_path: Path) -> Path:
    """Two pages, thirty posts (every third a reply to the one before), one reply to a
    post that is not in the file."""
    posts = [DisqusPost(str(n), "100" if n % 2 else "101", f"<p>Post {n}</p>",
                        parent=str(n - 2) if n % 3 == 0 else None)
             for n in range(1, POSTS)]
    posts.append(DisqusPost(str(POSTS), "100", "<p>Orphan</p>", parent="404"))
    return write_disqus(tmp_path / "disqus.xml",
                        [DisqusThread("100", "https://news.example/a/"),
                         DisqusThread("101", "https://news.example/b/")], posts)


def _check_all_there(rostra: Rostra, output: str) -> None:
    assert counts(rostra.db)["comments"] == POSTS
    assert counts(rostra.db)["import_items"] == POSTS + 2  # and the two threads
    a, b = thread_by_key(rostra.db, "news", "/a"), thread_by_key(rostra.db, "news", "/b")
    assert a.comment_count + b.comment_count == POSTS
    by_text = {c.text: c for c in comments_of(rostra.db, a.id) + comments_of(rostra.db, b.id)}
    assert by_text["<p>Post 6</p>"].parent_id == by_text["<p>Post 4</p>"].id
    assert by_text["<p>Orphan</p>"].parent_id is None
    with rostra.db.read() as conn:
        run = conn.execute(select(import_runs)).one()
    assert run.status == "done"
    assert run.summary["comments_created"] == POSTS
    assert run.summary["threads_created"] == 2
    assert run.summary["parents_missing"] == 1
    assert "1 replies whose parent is not in the file became top-level" in " ".join(
        output.split())


# A comment of the second batch: the first batch (and its threads) committed. The
# record of a thread the first batch made: its try had counted the thread and kept its
# id, which the second try must not find.
WHERE = [("comments", "NEW.text = '<p>Post 11</p>'"),
         ("import_items", "NEW.kind = 'thread' AND NEW.source_id = '101'")]


@pytest.mark.parametrize("failure", FAILURES, ids=IDS)
@pytest.mark.parametrize(("table", "condition"), WHERE, ids=["second batch", "first batch"])
def test_a_batch_runs_again(pg_rostra: Rostra, tmp_path: Path, failure: str, table: str,
                            condition: str) -> None:
    path = _file(tmp_path)
    with first_try_fails(pg_rostra.db, "INSERT", condition, failure, table=table) as tried:
        result = pg_rostra.ok("import", "disqus", path, "--site", "news",
                              "--batch-size", "10")
        assert tried() == 2
    _check_all_there(pg_rostra, result.output)


@pytest.mark.parametrize("failure", FAILURES, ids=IDS)
def test_the_runs_end_runs_again(pg_rostra: Rostra, tmp_path: Path, failure: str) -> None:
    """The end links replies to their parents and counts them: its counts are said
    once."""
    path = _file(tmp_path)
    with first_try_fails(pg_rostra.db, "UPDATE", "NEW.status = 'done'", failure,
                         table="import_runs") as tried:
        result = pg_rostra.ok("import", "disqus", path, "--site", "news")
        assert tried() == 2
    _check_all_there(pg_rostra, result.output)


def test_undoing_a_failed_run_runs_again(pg_rostra: Rostra, tmp_path: Path) -> None:
    """A run that fails for good is undone; the undoing survives a deadlock."""
    path = _file(tmp_path)
    with first_try_fails(pg_rostra.db, "INSERT", "NEW.text = '<p>Post 11</p>'",
                         "RAISE EXCEPTION 'a fault of the database'") as failed, \
            first_try_fails(pg_rostra.db, "DELETE", "true", DEADLOCK,
                            table="import_runs") as undone:
        with pytest.raises(DBAPIError, match="a fault of the database"):
            pg_rostra.run("import", "disqus", path, "--site", "news", "--batch-size", "10")
        assert (failed(), undone()) == (1, 2)
    left = counts(pg_rostra.db)
    assert (left["comments"], left["threads"], left["import_items"], left["import_runs"],
            left["sites"]) == (0, 0, 0, 0, 0)
