"""Writers of small export files in every format the importers read, made by the tests."""

from __future__ import annotations

import gzip
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

WXR_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"
  xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>News Example</title>
  <link>https://news.example</link>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:base_site_url>https://news.example</wp:base_site_url>
"""
WXR_TAIL = "</channel>\n</rss>\n"


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass
class WpComment:
    id: int
    content: str
    parent: int = 0
    approved: str = "1"
    author: str | None = "Ana"
    email: str | None = "ana@example.com"
    url: str | None = None
    ip: str | None = "203.0.113.7"
    date_gmt: str | None = "2024-03-01 10:00:00"
    type: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    # Whitespace around the CDATA, as in hand-formatted exports (Isso's test WXR).
    padding: str = ""

    def xml(self) -> str:
        parts = [f"<wp:comment_id>{self.id}</wp:comment_id>"]
        if self.author is not None:
            parts.append(f"<wp:comment_author>{cdata(self.author)}</wp:comment_author>")
        if self.email is not None:
            parts.append(f"<wp:comment_author_email>{cdata(self.email)}</wp:comment_author_email>")
        if self.url is not None:
            parts.append(f"<wp:comment_author_url>{escape(self.url)}</wp:comment_author_url>")
        if self.ip is not None:
            parts.append(f"<wp:comment_author_IP>{self.ip}</wp:comment_author_IP>")
        if self.date_gmt is not None:
            parts.append(f"<wp:comment_date_gmt>{self.date_gmt}</wp:comment_date_gmt>")
        parts += [
            f"<wp:comment_content>{self.padding}{cdata(self.content)}{self.padding}"
            "</wp:comment_content>",
            f"<wp:comment_approved>{self.approved}</wp:comment_approved>",
            f"<wp:comment_type>{self.type}</wp:comment_type>",
            f"<wp:comment_parent>{self.parent}</wp:comment_parent>",
            "<wp:comment_user_id>0</wp:comment_user_id>",
        ]
        for key, value in self.meta.items():
            parts.append(
                f"<wp:commentmeta><wp:meta_key>{key}</wp:meta_key>"
                f"<wp:meta_value>{cdata(value)}</wp:meta_value></wp:commentmeta>"
            )
        return "<wp:comment>\n    " + "\n    ".join(parts) + "\n  </wp:comment>"


@dataclass
class WpPost:
    id: int
    title: str
    link: str
    content: str = "<p>Article text.</p>"
    post_type: str = "post"
    status: str = "publish"
    comment_status: str = "open"
    comments: list[WpComment] = field(default_factory=list)
    password: str = ""
    guid: str | None = None  # default: the shortlink https://news.example/?p=ID

    def xml(self) -> str:
        comments = "\n  ".join(c.xml() for c in self.comments)
        guid = self.guid if self.guid is not None else f"https://news.example/?p={self.id}"
        return f"""<item>
  <title>{escape(self.title)}</title>
  <link>{escape(self.link)}</link>
  <guid isPermaLink="false">{escape(guid)}</guid>
  <content:encoded>{cdata(self.content)}</content:encoded>
  <excerpt:encoded>{cdata("")}</excerpt:encoded>
  <wp:post_id>{self.id}</wp:post_id>
  <wp:post_date_gmt>2024-02-29 08:00:00</wp:post_date_gmt>
  <wp:comment_status>{self.comment_status}</wp:comment_status>
  <wp:status>{self.status}</wp:status>
  <wp:post_password>{cdata(self.password)}</wp:post_password>
  <wp:post_type>{self.post_type}</wp:post_type>
  <wp:postmeta><wp:meta_key>_edit_lock</wp:meta_key><wp:meta_value>1</wp:meta_value></wp:postmeta>
  {comments}
</item>
"""


def write_wxr(path: Path, posts: list[WpPost]) -> Path:
    path.write_text(WXR_HEAD + "".join(p.xml() for p in posts) + WXR_TAIL, encoding="utf-8")
    return path


@dataclass
class DisqusThread:
    dsq_id: str
    link: str
    identifier: str = ""
    title: str = "A story"
    deleted: bool = False
    closed: bool = False


@dataclass
class DisqusPost:
    dsq_id: str
    thread: str
    message: str
    parent: str | None = None
    deleted: bool = False
    spam: bool = False
    name: str | None = "Ana"
    email: str | None = "ana@example.com"
    created: str | None = "2023-05-01T12:00:00Z"
    ip: str | None = "198.51.100.4"
    # Whitespace around the CDATA, as in reformatted exports (Remark42's test data).
    padding: str = ""


def write_disqus(path: Path, threads: list[DisqusThread], posts: list[DisqusPost]) -> Path:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">',
        '<category dsq:id="1"><forum>news</forum><title>General</title></category>',
    ]
    for t in threads:
        out.append(
            f'<thread dsq:id="{t.dsq_id}"><id>{escape(t.identifier)}</id><forum>news</forum>'
            f'<category dsq:id="1"/><link>{escape(t.link)}</link><title>{escape(t.title)}</title>'
            f"<message/><createdAt>2023-05-01T10:00:00Z</createdAt>"
            f"<author><name>Editor</name></author>"
            f"<isClosed>{str(t.closed).lower()}</isClosed>"
            f"<isDeleted>{str(t.deleted).lower()}</isDeleted></thread>"
        )
    for p in posts:
        author = ""
        if p.name is not None or p.email is not None:
            author = "<author>"
            if p.email is not None:
                author += f"<email>{escape(p.email)}</email>"
            if p.name is not None:
                author += f"<name>{escape(p.name)}</name>"
            author += "<isAnonymous>false</isAnonymous></author>"
        parent = f'<parent dsq:id="{p.parent}"/>' if p.parent else ""
        created = f"<createdAt>{p.created}</createdAt>" if p.created else ""
        ip = f"<ipAddress>{p.ip}</ipAddress>" if p.ip else ""
        out.append(
            f'<post dsq:id="{p.dsq_id}"><id/>'
            f"<message>{p.padding}{cdata(p.message)}{p.padding}</message>{created}"
            f"<isDeleted>{str(p.deleted).lower()}</isDeleted>"
            f"<isSpam>{str(p.spam).lower()}</isSpam>{author}{ip}"
            f'<thread dsq:id="{p.thread}"/>{parent}</post>'
        )
    out.append("</disqus>")
    path.write_text("\n".join(out), encoding="utf-8")
    return path


ISSO_SCHEMA = """
CREATE TABLE preferences (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
CREATE TABLE comments (
    tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
    created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
    text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
    likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
    notification INTEGER DEFAULT 0);
"""


def write_isso(path: Path, threads: list[tuple[int, str, str]],
               comments: list[dict[str, object]]) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(ISSO_SCHEMA)
    conn.executemany("INSERT INTO threads (id, uri, title) VALUES (?, ?, ?)", threads)
    for c in comments:
        row = {"parent": None, "modified": None, "mode": 1, "remote_addr": "127.0.0.0",
               "author": None, "email": None, "website": None, "likes": 0, "dislikes": 0,
               "notification": 0, **c}
        conn.execute(
            "INSERT INTO comments (tid, id, parent, created, modified, mode, remote_addr, text,"
            " author, email, website, likes, dislikes, voters, notification) VALUES "
            "(:tid, :id, :parent, :created, :modified, :mode, :remote_addr, :text, :author,"
            " :email, :website, :likes, :dislikes, x'00', :notification)",
            row,
        )
    conn.commit()
    conn.close()
    return path


def write_remark42(path: Path, comments: list[dict[str, object]], gz: bool = False) -> Path:
    lines = [json.dumps({"version": 1, "users": [], "posts": []})]
    lines += [json.dumps(c, ensure_ascii=False) for c in comments]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def remark_comment(cid: str, url: str, text: str, *, pid: str = "", user: str = "u1",
                   time: str = "2022-01-01T10:00:00Z", delete: bool = False,
                   votes: dict[str, bool] | None = None) -> dict[str, object]:
    return {
        "id": cid, "pid": pid, "text": f"<p>{text}</p>", "orig": text,
        "user": {"name": user.title(), "id": f"github_{user}", "ip": "hashed", "admin": False},
        "locator": {"site": "remark", "url": url}, "score": 0, "votes": votes or {},
        "time": time, "delete": delete, "title": "Remark page",
    }
