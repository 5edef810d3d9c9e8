"""An axe-core audit of the rendered widget, light and dark, with a reply form open."""

from __future__ import annotations

from typing import Any

import pytest
from widget_page import Discussion, comment, expect, widget

pytestmark = pytest.mark.browser


def audit(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """Serious and critical violations inside the widget, as axe reports them."""
    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        """async () => {
             const r = await axe.run(document, {resultTypes: ['violations']});
             return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
               .map(v => ({id: v.id, impact: v.impact, help: v.help,
                           targets: v.nodes.map(n => JSON.stringify(n.target))}));
           }"""
    )
    return list(result)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_it_passes_an_axe_audit(discussion: Discussion, page: Any, axe_source: str, theme: str) -> None:
    first = discussion.post("An *opinion* with a [link](https://example.org/).", name="Ida")["comment"]
    discussion.post("A reply", parent_id=first["id"])
    discussion.post("Another view")
    page.goto(discussion.url(attrs=f'theme="{theme}"'))
    expect(widget(page).locator("ol.list > li")).to_have_count(2)
    comment(page, first["id"]).get_by_role("button", name="Reply").first.click()
    expect(comment(page, first["id"]).locator("form")).to_be_visible()
    assert audit(page, axe_source) == []


@pytest.mark.parametrize(("theme", "lang"), [("light", "en"), ("dark", "en"), ("light", "ar")])
def test_it_passes_an_axe_audit_in_the_states_a_reader_meets(
    discussion: Discussion, live_server: Any, page: Any, axe_source: str, theme: str, lang: str
) -> None:
    from rostra.core.models import CommentState

    gone = discussion.post("Soon deleted", name="Gone")["comment"]["id"]
    discussion.post("A reply under a tombstone", parent_id=gone)
    live_server.services.comments.set_state(gone, CommentState.DELETED, actor="test")
    discussion.post("\n\n".join("A long paragraph about the tram line and its costs. " * 6 for _ in range(10)))
    parent = None
    for depth in range(4):
        parent = discussion.post(f"Depth {depth}", name="Deep Thread", parent_id=parent)["comment"]["id"]
    page.goto(discussion.url(attrs=f'theme="{theme}"', lang=lang))
    expect(widget(page).locator(".rm")).to_have_count(1)
    form = widget(page).locator(".fs form")
    form.locator("textarea").fill("x" * 9_950)
    form.locator('[name="name"]').fill("Me")
    form.locator('[name="email"]').fill("not-an-address@nowhere")
    expect(form.locator(".cnt")).to_be_visible()
    form.locator("[type=submit]").click()
    expect(form.locator(".fe")).to_be_visible()
    assert audit(page, axe_source) == []
