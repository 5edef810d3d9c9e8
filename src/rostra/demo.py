"""The demo: a sample site with a realistic article thread, seeded once."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from rostra.core import markup
from rostra.core.errors import NotFound
from rostra.core.models import CommentState
from rostra.services.container import Services
from rostra.store import queries
from rostra.store.account_tables import reader_accounts
from rostra.store.staff_tables import comment_pins
from rostra.store.tables import comments, threads, votes

DEMO_SITE = "demo"
DEMO_THREAD = "/demo/2026/11/riverside-bridge-reopens"
DEMO_TITLE = "Riverside bridge reopens after two years of repairs"
OTHER_THREADS = [
    ("/demo/2026/11/library-extends-opening-hours", "Library extends opening hours in winter", 12),
    ("/demo/2026/11/market-square-trees", "Council plans forty new trees for Market Square", 27),
    ("/demo/2026/10/school-bus-timetable", "New school bus timetable starts Monday", 0),
]

NAMES = [
    "Maria Keller", "Tom Ashby", "Jana Horváthová", "Leon Weber", "Priya N.", "old_bridge_fan",
    "Sam O'Neill", "Ewa Kowalska", "Dmytro", "Chloé Martin", "Jorge Ruiz", "Min-jun Park",
    "cyclist_ben", "Hannah B.", "Riverside Resident", "Peter Novák", "Greta", "Alex T.",
    "Frank from Millbrook", "Lucía", "Ines V.", "Kofi Mensah", "Nora Lind", "R. Patel",
]

OPENERS = [
    "Finally! I crossed it this morning on the 7:40 bus and it took four minutes instead of "
    "twenty-five.",
    "Two years and **€14 million** later. I'd like to see the final invoice published in full.",
    "The new cycle lane is great, but the junction at Mill Street is still dangerous at rush hour.",
    "Does anyone know if the footpath on the east side is open yet? It was fenced off on Sunday.",
    "Credit where it's due: the crews worked through two winters. Thank you to everyone on site.",
    "My shop on Quay Road lost a third of its customers during the closure. Will there be any "
    "compensation for local businesses?",
    "The lighting at night is much better than before. It actually feels safe to walk home now.",
    "I still don't understand why they didn't build a temporary pedestrian bridge. Other towns "
    "managed it.",
    "Weight limit is 7.5 tonnes according to the sign, so the quarry lorries will still go "
    "through the village. That was the whole point of the repair, wasn't it?",
    "Great photos in the article. The view from the middle of the bridge at sunset is back!",
    "For anyone wondering, the council's page has the timetable changes: "
    "https://example.org/council/transport",
    "> the bridge is expected to last another 80 years\n\nThat's what they said in 1978 too.",
    "Things I noticed today:\n\n- the benches are back\n- the old lamp posts were restored\n"
    "- the railing is higher, good for kids",
    "Honest question: how much of the delay was the flood in 2025 and how much was the "
    "contractor?",
    "Die neue Brücke ist wirklich schön geworden. Endlich wieder mit dem Rad in die Stadt!",
    "Konečne! Cesta do práce je o dvadsať minút kratšia.",
    "Traffic on Station Road was a nightmare for two years. I hope they now fix the potholes "
    "there too, the diversion wrecked it.",
    "The article says 'two years', but the first closure notice was in August 2024. "
    "So it's closer to two and a half.",
]

REPLIES = [
    "Agreed, completely.",
    "I don't think that's fair. The flood damage was not something anyone could plan for.",
    "Source? The council minutes from March say something different.",
    "Same experience here, the morning bus was on time for the first time in ages.",
    "The footpath opened yesterday afternoon, I walked across at 5pm.",
    "That's a good point about the lorries. Worth raising at the next council meeting.",
    "There was a temporary ferry for a few months, but it stopped in winter.",
    "Compensation was discussed in the budget meeting, the recording is online.",
    "Ha, I remember 1978. My dad worked on that repair.",
    "You can see the invoices in the procurement register, it's public.",
    "Thanks, that's useful.",
    "Not sure I agree, but I see where you're coming from.",
    "The junction is being redesigned next year according to the article.",
    "Please keep it civil, people. We all had a rough two years with the diversions.",
    "Exactly this. `7.5t` is far too low for the quarry traffic.",
]


def _rng_text(rng: random.Random, pool: list[str]) -> str:
    return rng.choice(pool)


def ensure_demo(services: Services, origins: list[str], *, comments_count: int = 300) -> bool:
    """Create the demo site and its threads unless they exist; True when seeded now."""
    try:
        site = services.sites.get(DEMO_SITE)
        services.sites.update(DEMO_SITE, origins=sorted(set(site.origins) | set(origins)))
    except NotFound:
        services.sites.create(DEMO_SITE, "Riverside Gazette (demo)", origins)
    with services.db.read() as conn:
        if queries.find_thread(conn, DEMO_SITE, DEMO_THREAD) is not None:
            return False
    rng = random.Random(20261125)
    now = datetime.now(UTC)
    with services.db.write() as conn:
        # The newsroom's desk, marked staff by the site's single sign-on: it answers the
        # newest comment, with the "Staff" badge.
        desk = conn.execute(insert(reader_accounts).values(
            site_id=DEMO_SITE, subject="desk", name="Riverside Gazette desk", email=None,
            website=None, email_verified=False, sso_staff=True, created_at=now, seen_at=now,
        ).returning(reader_accounts.c.id)).scalar_one()
        _seed_thread(conn, rng, DEMO_THREAD, DEMO_TITLE, comments_count, now, staff=desk)
        for key, title, count in OTHER_THREADS:
            _seed_thread(conn, rng, key, title, count, now)
    return True


def _seed_thread(conn: Any, rng: random.Random, key: str, title: str, count: int,
                 now: datetime, staff: int | None = None) -> None:
    start = now - timedelta(hours=30)
    thread_id = conn.execute(
        insert(threads).values(
            site_id=DEMO_SITE, key=key, url=None, title=title, created_at=start,
            updated_at=now, comment_count=0, top_level_count=0, closed=False,
        ).returning(threads.c.id)
    ).scalar_one()
    made: list[dict[str, Any]] = []
    readers = count - 1 if staff is not None else count  # the desk writes one of them
    times = sorted(start + timedelta(seconds=rng.uniform(0, 29 * 3600)) for _ in range(readers))
    for index, created in enumerate(times):
        parent = None
        if made and rng.random() < 0.45:
            # Replies cluster under recent and popular comments, a few levels deep.
            candidates = [m for m in made[-40:] if m["depth"] < 5]
            parent = rng.choice(candidates) if candidates else None
        text = _rng_text(rng, REPLIES if parent else OPENERS)
        if rng.random() < 0.2:
            text += " " + _rng_text(rng, REPLIES)
        row = {
            "thread_id": thread_id, "parent_id": parent["id"] if parent else None,
            "depth": parent["depth"] + 1 if parent else 0,
            "state": CommentState.APPROVED.value, "author_name": rng.choice(NAMES),
            "author_email": None, "author_website": None, "voter_id": f"demo{index}",
            "ip_hash": None, "text": text, "html": markup.render(text), "created_at": created,
            "score": 0, "upvotes": 0, "downvotes": 0, "reply_count": 0,
        }
        comment_id = conn.execute(insert(comments).values(**row).returning(comments.c.id)).scalar_one()
        root = parent["root"] if parent else comment_id
        conn.execute(update(comments).where(comments.c.id == comment_id).values(root_id=root))
        made.append({"id": comment_id, "depth": row["depth"], "root": root,
                     "parent": parent["id"] if parent else None})
    newest = next((m for m in reversed(made) if m["parent"] is None), None)
    newest_id = newest["id"] if newest else None
    if staff is not None and newest is not None:
        text = ("Thanks for reading closely. The inspection report is now online, and we "
                "will update the article when the load test is done.")
        comment_id = conn.execute(insert(comments).values(
            thread_id=thread_id, parent_id=newest["id"], root_id=newest["id"], depth=1,
            state=CommentState.APPROVED.value, author_name="Riverside Gazette desk",
            author_email=None, author_website=None, account_id=staff, voter_id=None,
            ip_hash=None, text=text, html=markup.render(text), score=0, upvotes=0,
            downvotes=0, reply_count=0, created_at=now - timedelta(minutes=4),
        ).returning(comments.c.id)).scalar_one()
        made.append({"id": comment_id, "depth": 1, "root": newest["id"], "parent": newest["id"]})
    # Votes from made-up readers: a few comments become popular, most get a handful.
    for item in made:
        ups = int(rng.paretovariate(1.6)) - 1 if rng.random() < 0.7 else 0
        downs = rng.randint(0, 3) if rng.random() < 0.3 else 0
        ups = min(ups, 60)
        item["ups"] = ups
        rows = [{"comment_id": item["id"], "voter": f"v:demo-{item['id']}-{n}", "value": 1,
                 "ip_hash": None, "created_at": now} for n in range(ups)]
        rows += [{"comment_id": item["id"], "voter": f"v:demo-{item['id']}-d{n}", "value": -1,
                  "ip_hash": None, "created_at": now} for n in range(downs)]
        if rows:
            conn.execute(insert(votes), rows)
            conn.execute(update(comments).where(comments.c.id == item["id"]).values(
                upvotes=ups, downvotes=downs, score=ups - downs, voted_at=now))
    if staff is not None:
        # The desk picked the most upvoted of the latest opening comments (on the first
        # page): it heads the discussion.
        latest = [m for m in made if m["parent"] is None and m["id"] != newest_id][-10:]
        best = max(latest, key=lambda m: int(m.get("ups", 0)), default=None)
        if best is not None:
            conn.execute(insert(comment_pins).values(
                comment_id=best["id"], site_id=DEMO_SITE, kind="featured",
                created_by="Riverside Gazette desk", created_at=now))
    # Reply counts, then one deleted comment that keeps its replies as a tombstone.
    children: dict[int, int] = {}
    for item in made:
        if item["parent"]:
            children[item["parent"]] = children.get(item["parent"], 0) + 1
    for parent_id, n in children.items():
        conn.execute(update(comments).where(comments.c.id == parent_id).values(reply_count=n))
    deleted = next((i for i in made if children.get(i["id"], 0) >= 2 and not i["parent"]), None)
    if deleted is not None:
        conn.execute(update(comments).where(comments.c.id == deleted["id"]).values(
            state=CommentState.DELETED.value, text="", html="", author_name=None))
    approved = conn.execute(
        select(comments.c.id, comments.c.parent_id).where(
            comments.c.thread_id == thread_id, comments.c.state == CommentState.APPROVED.value)
    ).all()
    conn.execute(update(threads).where(threads.c.id == thread_id).values(
        comment_count=len(approved),
        top_level_count=sum(1 for r in approved if r.parent_id is None)))
