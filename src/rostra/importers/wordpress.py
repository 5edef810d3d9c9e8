"""WordPress WXR exports, with what wpDiscuz keeps in them (votes, inline feedback), and
wpDiscuz's own tables from an optional SQL dump (per-voter votes, subscriptions)."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import IO

from lxml import etree

from rostra.core.models import CommentState
from rostra.core.thread_keys import http_url
from rostra.importers.common import (
    anchor_in,
    html_to_text,
    key_for,
    parse_naive_utc,
    truthy,
    wordpress_html,
)
from rostra.importers.mysql_dump import read_rows
from rostra.importers.safe_xml import child_texts, fail, iterparse, local_name, release
from rostra.services.import_records import (
    ImportedComment,
    ImportedQuestion,
    ImportedSubscription,
    ImportedThread,
    ImportedVote,
    ImportFormatError,
    ImportItem,
    Notice,
    Skipped,
)

# WordPress writes http://wordpress.org/export/1.x/; WordPress.com writes https://.
WP_NAMESPACE = re.compile(r"https?://wordpress\.org/export/")
CONTENT_NAMESPACE = "{http://purl.org/rss/1.0/modules/content/}"
STATES = {
    "1": CommentState.APPROVED,
    "approve": CommentState.APPROVED,
    "0": CommentState.PENDING,
    "hold": CommentState.PENDING,
    "spam": CommentState.SPAM,
    "trash": CommentState.DELETED,
    "post-trashed": CommentState.REJECTED,
}
THREAD_POST_TYPES = frozenset({"post", "page"})
PINGS = frozenset({"pingback", "trackback"})
READER_TYPES = frozenset({"", "comment", "review"})  # WooCommerce's product reviews
_FEEDBACK = re.compile(
    r"\[wpdiscuz-feedback\b([^\]]*)\](.*?)\[/wpdiscuz-feedback\]", re.DOTALL | re.IGNORECASE
)
_ATTRIBUTE = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
_POST_ID_IN_URL = re.compile(r"[?&](?:p|page_id)=(\d+)(?:[&#]|$)")
UNPLACED_ITEM = "item without wp:post_id, link or guid (its comments are skipped with it)"
UNPLACED_COMMENT = "comment on an item without wp:post_id, link or guid"
_PHP_COUNT = re.compile(r's:\d+:"(like|dislike)";i:(-?\d+);')
WXR_ONLY_NOTICE = (
    "a WXR file does not hold wpDiscuz's per-voter votes or subscriptions: import them "
    "with --wpdiscuz-sql DUMP.sql (a dump of the wc_users_voted and "
    "wc_comments_subscription tables)"
)
HIDDEN_NOTICE = (
    "{count} approved comments of password-protected or private posts were imported as "
    "pending: only moderators see them; approve them where the post is public now"
)

VOTES_TABLE = "wc_users_voted"
SUBSCRIPTIONS_TABLE = "wc_comments_subscription"
FORMS_TABLE = "wc_feedback_forms"
DEFAULT_COLUMNS = {
    VOTES_TABLE: ["id", "user_id", "comment_id", "vote_type", "is_guest", "post_id", "date"],
    SUBSCRIPTIONS_TABLE: [
        "id", "email", "subscribtion_id", "post_id", "subscribtion_type", "activation_key",
        "confirm", "subscription_date", "imported_from",
    ],
    FORMS_TABLE: ["id", "post_id", "unique_id", "question", "opened", "content"],
}
SUBSCRIPTION_KINDS = {"post": "thread", "all_comment": "replies", "comment": "comment"}


@dataclass(slots=True)
class _Post:
    """What is known of the ``<item>`` being read."""

    post_id: str = ""
    thread: ImportedThread | None = None
    skipped: bool = False
    unplaced: bool = False  # skipped because nothing tells which page it is
    hidden: bool = False  # password-protected or private: its comments are held
    # Comments held back until the item ends, to map their feedback form ids.
    held: list[ImportedComment] = field(default_factory=list)
    form_ids: dict[str, str] = field(default_factory=dict)


def _namespace(tag: str) -> str:
    """``{namespace}name`` -> ``namespace`` (empty for none)."""
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _wp_namespaces(root: etree._Element) -> set[str]:
    """The namespace the file binds ``wp:`` to, whatever its URI."""
    bound = root.nsmap.get("wp")
    return {bound} if bound else set()


def _is_wp(namespace: str, bound: set[str]) -> bool:
    return namespace in bound or WP_NAMESPACE.match(namespace) is not None


def unknown_comments_notice(namespace: str, count: int) -> str:
    where = f"the namespace {namespace}" if namespace else "no namespace"
    return (f"{count} <comment> elements of items in {where} are not WordPress comments: "
            "not imported")


def _item_fields(item: etree._Element) -> dict[str, str]:
    fields: dict[str, str] = {}
    for child in item:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = local_name(tag)
        if tag.startswith(CONTENT_NAMESPACE):
            name = "content"
        elif name == "encoded":
            continue  # excerpt:encoded
        fields.setdefault(name, child.text or "")
    return fields


def article_questions(content: str) -> tuple[ImportedQuestion, ...]:
    """The wpDiscuz inline questions of a post, in document order, anchored in its text."""
    found: list[ImportedQuestion] = []
    text_parts: list[str] = []
    length = 0
    spans: list[tuple[dict[str, str], int, int]] = []
    last = 0
    for m in _FEEDBACK.finditer(content):
        before = html_to_text(content[last:m.start()])
        text_parts.append(before)
        length += len(before)
        passage = html_to_text(m.group(2))
        attrs = {
            a.group(1).lower(): html.unescape(a.group(2) or a.group(3) or a.group(4) or "")
            for a in _ATTRIBUTE.finditer(m.group(1))
        }
        spans.append((attrs, length, length + len(passage)))
        text_parts.append(passage)
        length += len(passage)
        last = m.end()
    if not spans:
        return ()
    text_parts.append(html_to_text(content[last:]))
    article = "".join(text_parts)
    for position, (attrs, start, end) in enumerate(spans):
        question_id = attrs.get("id") or f"q{position + 1}"
        found.append(ImportedQuestion(
            question_id=question_id[:64],
            question=attrs.get("question", ""),
            anchor=anchor_in(article, start, end, question_id[:64]),
            opened=truthy(attrs.get("opened")),
        ))
    return tuple(found)


def post_id_of(fields: Mapping[str, str]) -> str:
    """The item's post id: wp:post_id, else the ``?p=N`` (``?page_id=N``) of its link or
    guid (a blog with plain permalinks, or an export that left wp:post_id out)."""
    post_id = fields.get("post_id", "").strip()
    if post_id:
        return post_id
    for name in ("link", "guid"):
        found = _POST_ID_IN_URL.search(fields.get(name, "") or "")
        if found:
            return found.group(1)
    return ""


def _thread(fields: Mapping[str, str]) -> ImportedThread | None:
    post_id = post_id_of(fields)
    key = key_for(fields.get("link"), fields.get("guid"), f"wp-{post_id}" if post_id else None)
    if key is None:
        return None
    aliases: list[str] = []
    if post_id:
        shortlink = "/?page_id=" if fields.get("post_type") == "page" else "/?p="
        aliases += [shortlink + post_id, post_id]
    guid = fields.get("guid") or ""
    named = _POST_ID_IN_URL.search(guid)
    # A post made from another (a copy) keeps that one's guid, ?p=<the other's id>: it
    # names the other post, not this one.
    guid_key = None if named and post_id and named.group(1) != post_id else key_for(guid)
    if guid_key:
        aliases.append(guid_key)
    created = parse_naive_utc(fields.get("post_date_gmt", "")) or parse_naive_utc(
        fields.get("post_date", "")
    )
    return ImportedThread(
        source_id=post_id or key,
        key=key,
        url=http_url(fields.get("link")),
        title=html.unescape(fields.get("title", "")).strip() or None,
        created_at=created,
        closed=fields.get("comment_status", "open") == "closed",
        aliases=tuple(a for a in dict.fromkeys(aliases) if a != key),
        questions=article_questions(fields.get("content", "")),
    )


def _votes(meta: Mapping[str, str]) -> tuple[int, int]:
    separate = meta.get("wpdiscuz_votes_seperate", "")
    counts = dict(_PHP_COUNT.findall(separate))
    if counts:
        return max(0, int(counts.get("like", 0))), abs(int(counts.get("dislike", 0)))
    try:
        total = int(meta.get("wpdiscuz_votes", "0") or 0)
    except ValueError:
        total = 0
    return (total, 0) if total >= 0 else (0, -total)


def _comment(
    elem: etree._Element, post: _Post, keep_pings: bool
) -> ImportedComment | Skipped:
    fields = child_texts(elem)
    meta: dict[str, str] = {}
    for child in elem:
        if isinstance(child.tag, str) and local_name(child.tag) == "commentmeta":
            m = child_texts(child)
            meta[m.get("meta_key", "")] = m.get("meta_value", "")
    comment_id = fields.get("comment_id", "").strip()
    if not comment_id:
        raise fail(elem, "wp:comment_id is missing")
    kind = fields.get("comment_type", "").strip()
    if kind in PINGS:
        if not keep_pings:
            return Skipped(f"{kind} (use --keep-pingbacks to import)", comment_id,
                           kind="comment")
    elif kind not in READER_TYPES:
        # WordPress 6.9's editorial notes, WooCommerce's order notes, plugins' own rows:
        # not written by readers, often private.
        return Skipped(f"comment_type {kind[:40]}: not a reader's comment", comment_id,
                       kind="comment")
    try:
        created = parse_naive_utc(fields.get("comment_date_gmt", "")) or parse_naive_utc(
            fields.get("comment_date", "")
        )
    except ValueError:
        raise fail(elem, f"comment {comment_id}: date is not YYYY-MM-DD HH:MM:SS") from None
    if created is None:
        raise fail(elem, f"comment {comment_id}: wp:comment_date_gmt is missing")
    approved = fields.get("comment_approved", "1").strip()
    state = STATES.get(approved)
    if state is None:
        raise fail(elem, f"comment {comment_id}: unknown wp:comment_approved {approved!r}")
    parent = fields.get("comment_parent", "0").strip()
    # Whitespace around the CDATA is the file's layout, not the comment's (hand-made and
    # reformatted exports indent it).
    content = fields.get("comment_content", "").strip()
    up, down = _votes(meta)
    form_id = meta.get("wpdiscuz_feedback_form_id", "").strip()
    if form_id and form_id != "0":
        post.form_ids[comment_id] = form_id
    return ImportedComment(
        source_id=comment_id,
        thread_source_id=post.post_id,
        parent_source_id=parent if parent not in ("", "0") else None,
        state=state,
        text=content,
        html=wordpress_html(content),
        created_at=created,
        author_name=html.unescape(fields.get("comment_author", "")).strip() or None,
        author_email=fields.get("comment_author_email", "").strip() or None,
        author_website=fields.get("comment_author_url", "").strip() or None,
        ip=fields.get("comment_author_IP", "").strip() or None,
        upvotes=up,
        downvotes=down,
    )


def _with_anchors(post: _Post, form_questions: Mapping[str, str]) -> Iterator[ImportedComment]:
    """The held comments of a post, inline feedback anchored to its question.

    A form id is wpDiscuz's row id for the question. With the SQL dump it names the
    question exactly; without, ids of one post's questions are taken to count up in the
    order the shortcodes stand in the article."""
    thread = post.thread
    questions = thread.questions if thread is not None else ()
    by_id = {q.question_id: q for q in questions}
    ids = sorted({int(f) for f in post.form_ids.values() if f.isdigit()})
    guessed: dict[str, int] = {}
    if ids and questions:
        if ids[-1] - ids[0] < len(questions):
            guessed = {str(f): f - ids[0] for f in ids}
        else:
            guessed = {str(f): n for n, f in enumerate(ids)}
    for comment in post.held:
        form_id = post.form_ids.get(comment.source_id)
        question = None
        if form_id is not None:
            unique = form_questions.get(form_id)
            if unique is not None:
                question = by_id.get(unique)
            elif form_id in guessed and guessed[form_id] < len(questions):
                question = questions[guessed[form_id]]
        yield replace(comment, anchor=question.anchor) if question is not None else comment


NOT_WXR = "not a WordPress export (WXR): the root element is not <rss>"


def read_wordpress(
    source: IO[bytes],
    *,
    keep_pingbacks: bool = False,
    wpdiscuz_sql: IO[str] | None = None,
) -> Iterator[ImportItem]:
    """Threads and comments of a WXR file, then votes and subscriptions from the dump."""
    form_questions: dict[str, str] = {}
    if wpdiscuz_sql is not None:
        for row in read_rows(wpdiscuz_sql, [FORMS_TABLE], DEFAULT_COLUMNS):
            form_questions[str(row.values.get("id"))] = str(row.values.get("unique_id") or "")
        wpdiscuz_sql.seek(0)
    post: _Post | None = None
    seen_rss = False
    wp_namespaces: set[str] = set()
    unknown: Counter[str] = Counter()  # <comment> children of items in another namespace
    held_back = 0  # approved comments of hidden posts imported as pending
    for event, elem in iterparse(source, ("{*}item", "{*}comment"), root="rss",
                                 not_root=NOT_WXR):
        tag = elem.tag
        if not isinstance(tag, str):
            continue
        if not seen_rss:
            seen_rss = True
            wp_namespaces = _wp_namespaces(elem.getroottree().getroot())
        name = local_name(tag)
        if event == "start":
            if name == "item":
                post = _Post()
            continue
        if name == "comment" and post is not None and not _is_wp(_namespace(tag), wp_namespaces):
            parent = elem.getparent()
            if parent is not None and local_name(str(parent.tag)) == "item":
                unknown[_namespace(tag)] += 1
                release(elem)
        elif name == "comment" and post is not None:
            yield from _begin_thread(post, elem.getparent())
            if post.unplaced:
                yield Skipped(UNPLACED_COMMENT, child_texts(elem).get("comment_id", ""),
                              kind="comment")
            elif not post.skipped:
                item = _comment(elem, post, keep_pingbacks)
                if post.hidden and isinstance(item, ImportedComment) and (
                    item.state is CommentState.APPROVED
                ):
                    # Readers of the post needed its password (or an account): its
                    # comments must not become public on their own.
                    item = replace(item, state=CommentState.PENDING)
                    held_back += 1
                if isinstance(item, Skipped) or not post.thread or not post.thread.questions:
                    yield item
                else:
                    post.held.append(item)
            release(elem)
        elif name == "item" and post is not None:
            yield from _begin_thread(post, elem, finished=True)
            yield from _with_anchors(post, form_questions)
            release(elem)
            post = None
    if not seen_rss:
        raise ImportFormatError("the file is empty")
    if held_back:
        yield Notice(HIDDEN_NOTICE.format(count=held_back))
    for namespace, count in sorted(unknown.items()):
        yield Notice(unknown_comments_notice(namespace, count))
    if wpdiscuz_sql is None:
        yield Notice(WXR_ONLY_NOTICE)
    else:
        yield from _dump_items(wpdiscuz_sql)


def _begin_thread(
    post: _Post, item: etree._Element | None, finished: bool = False
) -> Iterator[ImportItem]:
    if post.thread is not None or post.skipped or item is None:
        return
    fields = _item_fields(item)
    post.post_id = fields.get("post_id", "").strip()
    has_comments = not finished or any(
        isinstance(c.tag, str) and local_name(c.tag) == "comment" for c in item
    )
    post_type = fields.get("post_type", "post")
    if not has_comments and (
        post_type not in THREAD_POST_TYPES or fields.get("status", "publish") != "publish"
    ):
        post.skipped = True
        yield Skipped(f"{post_type} without comments ({fields.get('status', '')})", post.post_id)
        return
    thread = _thread(fields)
    if thread is None:
        post.skipped = post.unplaced = True
        yield Skipped(UNPLACED_ITEM, fields.get("title", "")[:100])
        return
    post.post_id = thread.source_id
    post.thread = thread
    post.hidden = bool(fields.get("post_password", "").strip()) or (
        fields.get("status", "").strip() == "private"
    )
    yield thread


def _dump_items(dump: IO[str]) -> Iterator[ImportItem]:
    for row in read_rows(dump, [VOTES_TABLE, SUBSCRIPTIONS_TABLE], DEFAULT_COLUMNS):
        v = row.values
        when = datetime.fromtimestamp(int(v.get("date") or 0), UTC)
        if row.table == VOTES_TABLE:
            yield ImportedVote(
                comment_source_id=str(v.get("comment_id")),
                voter=f"x:wp:{v.get('user_id')}"[:80],
                value=1 if int(v.get("vote_type") or 0) > 0 else -1,
                created_at=when,
            )
            continue
        kind = SUBSCRIPTION_KINDS.get(str(v.get("subscribtion_type")))
        if kind is None:
            yield Skipped("subscription of an unknown type", str(v.get("id")))
            continue
        created_text = v.get("subscription_date")
        try:
            created = parse_naive_utc(str(created_text)) if created_text else None
        except ValueError:
            created = None
        yield ImportedSubscription(
            thread_source_id=str(v.get("post_id")),
            email=str(v.get("email") or ""),
            kind=kind,
            comment_source_id=str(v.get("subscribtion_id")) if kind == "comment" else None,
            confirmed=str(v.get("confirm") or 0).strip() not in ("0", ""),
            created_at=created,
        )
