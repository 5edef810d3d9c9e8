"""The demo as a new user starts it (`rostra demo`: a real server, which stores comments
in its posting process): a reader posts through the widget on the demo article, and a
page already open gets the comment live. (The other browser tests run the server in
the test's process, where posting stays in the worker.)"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import free_port, posting_processes, wait_ready
from widget_page import TRACK_STREAMS, expect, widget

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    folder = tmp_path_factory.mktemp("demo")
    port = free_port()
    with (folder / "demo.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "rostra.cli", "demo", "--no-browser", "--port", str(port)],
            cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, folder / "demo.log", seconds=90)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=40)


def test_a_reader_posts_on_the_demo_and_an_open_page_gets_it_live(
    demo: tuple[str, int], chromium: Any, page: Any
) -> None:
    base, pid = demo
    assert len(posting_processes(pid)) == 1
    article = f"{base}/demo/"
    watching = chromium.new_context(viewport={"width": 1000, "height": 900}, locale="en-US")
    try:
        other = watching.new_page()
        other.add_init_script(TRACK_STREAMS)
        other.goto(article)
        expect(widget(other).locator("ol.list > li").first).to_be_visible()
        # The stream is open while the comments are in view (below the article here).
        widget(other).locator("h2").first.scroll_into_view_if_needed()
        other.wait_for_function("window.__streams.some((s) => s.readyState === 1)")

        text = f"Finally open again, and the buses run on time ({secrets.token_hex(3)})."
        page.goto(article)
        form = widget(page).locator(".fs form")
        form.get_by_label("Comment").fill(text)
        form.get_by_label("Name").fill("Dana")
        form.get_by_role("button", name="Post comment").click()
        expect(widget(page).locator('[role="status"]')).to_have_text(
            "Your comment was posted.")
        expect(widget(page).get_by_text(text)).to_be_visible()

        # The page open before the post hears of it from the server's live stream, with
        # the comment in the event (no fetch), and offers it.
        other.wait_for_function("window.__events.some((e) => e.comment)")
        widget(other).get_by_role("button", name="1 new comment — show").click()
        expect(widget(other).get_by_text(text)).to_be_visible()
        page.reload()
        expect(widget(page).get_by_text(text)).to_be_visible()
    finally:
        watching.close()
