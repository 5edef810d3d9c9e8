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
