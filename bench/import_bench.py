"""Import benchmark: generate a WXR file of N comments, import it into a fresh SQLite
database in a child process, and print the time, the rate and the child's peak memory.

    .venv/bin/python bench/import_bench.py --comments 1000000
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Bench</title><link>https://bench.example</link>
"""


def generate(path: Path, comments: int, per_post: int) -> None:
    """Posts of ``per_post`` comments; every third comment replies to the one before."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEAD)
        cid = 0
        for post in range(1, comments // per_post + 2):
            if cid >= comments:
                break
            out.write(
                f"<item><title>Post {post}</title><link>https://bench.example/{post}/</link>"
                f"<content:encoded><![CDATA[<p>Article {post}</p>]]></content:encoded>"
                f"<wp:post_id>{post}</wp:post_id>"
                f"<wp:post_date_gmt>2024-01-01 00:00:00</wp:post_date_gmt>"
                f"<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>\n"
            )
            for n in range(min(per_post, comments - cid)):
                cid += 1
                parent = cid - 1 if n % 3 else 0
                out.write(
                    f"<wp:comment><wp:comment_id>{cid}</wp:comment_id>"
                    f"<wp:comment_author><![CDATA[Reader {cid % 997}]]></wp:comment_author>"
                    f"<wp:comment_author_email>r{cid % 997}@example.com</wp:comment_author_email>"
                    f"<wp:comment_author_IP>198.51.100.{cid % 250}</wp:comment_author_IP>"
                    f"<wp:comment_date_gmt>2024-01-02 03:04:05</wp:comment_date_gmt>"
                    f"<wp:comment_content><![CDATA[Comment {cid} with <em>some</em> text "
                    f"that is about as long as a real one.]]></wp:comment_content>"
                    f"<wp:comment_approved>1</wp:comment_approved><wp:comment_type></wp:comment_type>"
                    f"<wp:comment_parent>{parent}</wp:comment_parent>"
                    f"<wp:commentmeta><wp:meta_key>wpdiscuz_votes</wp:meta_key>"
                    f"<wp:meta_value>{cid % 5}</wp:meta_value></wp:commentmeta>"
                    f"</wp:comment>\n"
                )
            out.write("</item>\n")
        out.write("</channel></rss>\n")


def import_only(path: Path, database: Path) -> None:
    """Child process: the import alone, so its peak memory is the import's."""
    from rostra.importers.wordpress import read_wordpress
    from rostra.services.import_records import ImportSource
    from rostra.services.importing import ImportEngine
    from rostra.store.db import Database
    from rostra.store.migrate import upgrade

    db = Database(f"sqlite:///{database}")
    upgrade(db)
    started = time.perf_counter()
    with open(path, "rb") as fh:
        summary = ImportEngine(db, source=ImportSource.WORDPRESS, site_id="bench",
                               fingerprint="bench").run(read_wordpress(fh))
    elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"imported {summary.comments_created:,} comments in {summary.threads_created:,} "
          f"threads in {elapsed:.1f} s ({summary.comments_created / elapsed:,.0f} comments/s); "
          f"peak memory {peak_mib:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--per-post", type=int, default=100)
    parser.add_argument("--import-only", nargs=2, metavar=("WXR", "DB"))
    args = parser.parse_args()
    if args.import_only:
        import_only(Path(args.import_only[0]), Path(args.import_only[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        wxr, database = Path(tmp) / "bench.xml", Path(tmp) / "bench.sqlite3"
        started = time.perf_counter()
        generate(wxr, args.comments, args.per_post)
        print(f"generated {args.comments:,} comments ({wxr.stat().st_size / 2**20:.0f} MiB) "
              f"in {time.perf_counter() - started:.1f} s")
        subprocess.run(
            [sys.executable, __file__, "--import-only", str(wxr), str(database)], check=True
        )


if __name__ == "__main__":
    main()
