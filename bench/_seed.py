"""The benchmark's data, and posting it to Rostra and to Isso through their HTTP APIs.

The same threads, comments, authors and reply structure go to both systems, built
from a fixed random seed so every run measures the same data.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote

BIG_THREAD = "/bench/big/"
POST_THREAD = "/bench/post/"
MAX_DEPTH = 4

_WORDS = ["the", "council", "vote", "on", "the", "new", "budget", "was", "closer", "than", "anyone", "expected", "and", "the", "opposition", "says", "it", "will", "appeal", "while", "residents", "worry", "about", "rents", "schools", "buses", "and", "the", "river", "crossing", "that", "was", "promised", "three", "years", "ago", "readers", "who", "live", "near", "the", "station", "report", "delays", "every", "morning", "but", "the", "mayor", "insists", "the", "numbers", "tell", "a", "different", "story", "about", "growth", "jobs", "and", "housing", "in", "the", "region"]
# Local-news words in a few languages, for texts that differ from one comment to the
# next (near-copies would rightly be held as a copy-paste flood).
VOCABULARY = (
    "council", "budget", "school", "bridge", "road", "mayor", "vote", "tax", "river",
    "flood", "police", "hospital", "train", "station", "election", "minister", "report",
    "article", "photo", "street", "market", "price", "rent", "wage", "teacher", "doctor",
    "nurse", "farmer", "bus", "tram", "bike", "park", "library", "museum", "theatre",
    "football", "match", "season", "coach", "league", "referee", "weather", "storm",
    "summer", "winter", "harvest", "festival", "Stadt", "Schule", "Brücke", "Straße",
    "Steuer", "Wahl", "Regierung", "Zeitung", "Frage", "Antwort", "Problem", "mesto",
    "škola", "most", "cesta", "dane", "voľby", "vláda", "noviny", "otázka", "odpoveď",
    "problém", "riešenie",
)
_NAMES = ("Ana", "Ben", "Chloé", "Dmytro", "Eva", "Farid", "Grace", "Hyun-woo", "Ines", "Jan",
          "Katya", "Luis", "Mira", "Noah", "Olga", "Pavol", "Quinn", "Rosa", "Sam", "Tomás")


@dataclass(frozen=True)
class SeedComment:
    """One comment to post; ``parent`` is the index of an earlier comment in its thread."""

    parent: int | None
    depth: int
    name: str
    email: str | None
    website: str | None
    text: str


@dataclass(frozen=True)
class SeedThread:
    key: str
    title: str
    comments: tuple[SeedComment, ...]


def small_thread_key(number: int) -> str:
    return f"/bench/t/{number:03d}/"


def _text(rng: random.Random) -> str:
    """One to three sentences, now and then with Markdown or a link, like real comments."""
    sentences = []
    for _ in range(rng.randint(1, 3)):
        words = rng.choices(_WORDS, k=rng.randint(6, 24))
        sentences.append(" ".join(words).capitalize() + rng.choice((".", ".", ".", "?", "!")))
    text = " ".join(sentences)
    roll = rng.random()
    if roll < 0.1:
        text += " See https://news.example/2026/11/budget/ for the figures."
    elif roll < 0.2:
        text = "> " + sentences[0] + "\n\n" + text.replace(sentences[0], "*Really?*", 1)
    elif roll < 0.3:
        text += " **This** matters."
    return text


def make_thread(key: str, size: int, rng: random.Random) -> SeedThread:
    """``size`` comments, about a third of them replies, nested up to MAX_DEPTH levels."""
    comments: list[SeedComment] = []
    for index in range(size):
        parent: int | None = None
        depth = 0
        if index > 0 and rng.random() < 1 / 3:
            # Replies go mostly to recent comments, as in a live discussion.
            candidates = [i for i in range(max(0, index - 30), index)
                          if comments[i].depth < MAX_DEPTH]
            if candidates:
                parent = rng.choice(candidates)
                depth = comments[parent].depth + 1
        name = rng.choice(_NAMES)
        comments.append(SeedComment(
            parent=parent,
            depth=depth,
            name=name,
            email=f"{name.lower()}{index}@example.org" if rng.random() < 0.5 else None,
            website="https://blog.example.org/" if rng.random() < 0.1 else None,
            text=_text(rng),
        ))
    return SeedThread(key=key, title=f"Story {key}", comments=tuple(comments))


def make_dataset(big_size: int = 1000, small_threads: int = 100, small_size: int = 20,
                 seed: int = 2026) -> list[SeedThread]:
    rng = random.Random(seed)
    threads = [make_thread(BIG_THREAD, big_size, rng)]
    threads += [make_thread(small_thread_key(n), small_size, rng) for n in range(small_threads)]
    return threads


class JsonClient:
    """Keep-alive HTTP/1.1 JSON calls to one loopback server, one connection per thread."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.headers = {"Content-Type": "application/json", **headers}
        self._local = threading.local()

    def call(self, method: str, path: str, body: object | None = None,
             expect: tuple[int, ...] = (200, 201)) -> tuple[int, bytes]:
        payload = None if body is None else json.dumps(body).encode("utf-8")
        for attempt in (1, 2):
            conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                self._local.conn = conn
            try:
                conn.request(method, path, body=payload, headers=self.headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                # The server closed a kept-alive connection (gunicorn's sync worker
                # always does): reconnect once.
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        if response.status not in expect:
            raise RuntimeError(f"{method} {path} -> {response.status}: {data[:300]!r}")
        return response.status, data


# Posts one comment given the server id of its parent; returns the new comment's id.
PostOne = Callable[[SeedThread, SeedComment, int | None], int]


def rostra_poster(client: JsonClient, site: str) -> PostOne:
    def post(thread: SeedThread, comment: SeedComment, parent_id: int | None) -> int:
        body = {"site": site, "thread": thread.key, "title": thread.title,
                "parent_id": parent_id, "name": comment.name, "email": comment.email,
                "website": comment.website, "text": comment.text}
        _, data = client.call("POST", "/api/comments", body)
        return int(json.loads(data)["comment"]["id"])
    return post


def isso_poster(client: JsonClient) -> PostOne:
    def post(thread: SeedThread, comment: SeedComment, parent_id: int | None) -> int:
        body = {"author": comment.name, "email": comment.email, "website": comment.website,
                "text": comment.text, "parent": parent_id, "title": thread.title}
        _, data = client.call("POST", f"/new?uri={quote(thread.key)}", body)
        return int(json.loads(data)["id"])
    return post


def seed(threads: list[SeedThread], post: PostOne, parallel: int = 4) -> int:
    """Post every comment, parents before replies, ``parallel`` at a time; return the count."""
    ids: dict[tuple[int, int], int] = {}
    posted = 0
    for depth in range(MAX_DEPTH + 1):
        # One wave per depth: every parent of this wave was posted in an earlier one.
        wave = [(t, i) for t, thread in enumerate(threads)
                for i, comment in enumerate(thread.comments) if comment.depth == depth]

        def post_at(at: tuple[int, int]) -> tuple[tuple[int, int], int]:
            thread = threads[at[0]]
            comment = thread.comments[at[1]]
            parent = None if comment.parent is None else ids[(at[0], comment.parent)]
            return at, post(thread, comment, parent)

        with ThreadPoolExecutor(parallel) as pool:
            for at, new_id in pool.map(post_at, wave):
                ids[at] = new_id
                posted += 1
    return posted
