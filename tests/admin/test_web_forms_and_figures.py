"""The workspace's shared helpers seen through its pages: a form body over 256 KiB is
refused before it is read, and the median time to a decision is written in minutes or
hours as it grows (comments imported with the time they were posted, decided now)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from tests.admin.conftest import Newsroom
from tests.conftest import LiveServer
from tests.importers.import_builders import WpComment, WpPost, write_wxr


def test_it_refuses_a_form_over_256_kib_with_or_without_its_length(newsroom: Newsroom) -> None:
    room = newsroom
    comment = room.held("Waiting")
    form = {"csrf": room.moderator.csrf, "action": "approve", "id": str(comment),
            "padding": "x" * (256 * 1024)}
    sized = room.moderator.http.post("/admin/act", data=form)
    body = urlencode(form).encode()
    chunked = room.moderator.http.post(
        "/admin/act", content=(body[i:i + 65536] for i in range(0, len(body), 65536)),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    for refused in (sized, chunked):
        assert refused.status_code == 413
        assert refused.json()["code"] == "payload_too_large"
    # Nothing was done: the comment still waits.
    assert room.moderator.queue_ids() == [comment]
    # A form just under the limit is read and acted on.
    done = room.moderator.post("/admin/act", {"action": "approve", "id": [comment],
                                              "padding": "x" * (256 * 1024 - 200)})
    assert done.status_code == 303
    assert room.moderator.queue_ids() == []


def _import_pending(server: LiveServer, tmp_path: Path, site: str, ages: list[timedelta]) -> None:
    now = datetime.now(UTC)
    comments = [WpComment(i + 1, f"Waiting {i}", approved="0",
                          date_gmt=(now - age).strftime("%Y-%m-%d %H:%M:%S"))
                for i, age in enumerate(ages)]
    export = write_wxr(tmp_path / f"{site}.xml", [
        WpPost(12, "Story", "https://news.example/2024/03/story/", comments=comments)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTRA_")}
    env.update(ROSTRA_DATABASE_URL=server.settings.database_url,
               ROSTRA_SECRET_KEY=server.settings.secret_key)
    result = subprocess.run([sys.executable, "-m", "rostra.cli", "import", "wordpress",
                             str(export), "--site", site], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def test_it_writes_the_median_time_to_a_decision_in_minutes_or_hours(
    newsroom: Newsroom, tmp_path: Path
) -> None:
    room = newsroom
    for age, shown in ((timedelta(minutes=30), "30 min"), (timedelta(hours=5), "5.0 h")):
        site = "m" + secrets.token_hex(4)
        _import_pending(room.server, tmp_path, site, [age])
        ids = room.admin.queue_ids(site=site)
        assert len(ids) == 1
        assert room.admin.post("/admin/act", {"action": "approve", "id": ids}).status_code == 303
        page = room.admin.page(f"/admin/sites/{site}", days="7")
        assert page.xpath('string(//dd[@data-figure="median"])') == shown
