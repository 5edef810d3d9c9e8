"""Rate limits and attack counts kept in Redis (``redis_url``), shared by every server,
and the pruning of idle keys in memory."""

from __future__ import annotations

import logging
import secrets
import shutil
import subprocess
import time

import pytest
import redis

from rostra.moderation import ratelimit
from rostra.moderation.checks.pow import AttackMeter
from rostra.moderation.policy import parse_policy
from rostra.moderation.ratelimit import SWEEP_EVERY, LocalWindows, RateLimiter
from tests.conftest import ORIGIN, Reader, free_port, require, running_server
from tests.moderation.test_ratelimit import _redis_up

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_it_counts_recorded_events_across_servers_in_redis() -> None:
    require(_redis_up(), "Redis is not running on 127.0.0.1:6379")
    namespace = "test-count-" + secrets.token_hex(4)
    one, two = RateLimiter(REDIS_URL), RateLimiter(REDIS_URL)
    assert one.count(namespace, "ip1") == 0
    one.record(namespace, "ip1")
    two.record(namespace, "ip1")
    one.record(namespace, "ip2")
    assert two.count(namespace, "ip1") == 2
    assert one.count(namespace, "ip2") == 1
    assert one.count(namespace, "ip3") == 0


def test_a_redis_backed_meter_raises_the_difficulty_for_an_ip_under_attack() -> None:
    require(_redis_up(), "Redis is not running on 127.0.0.1:6379")
    site = "news-" + secrets.token_hex(4)
    # Two servers sharing one Redis: the attack is counted on both together.
    one, two = AttackMeter(RateLimiter(REDIS_URL)), AttackMeter(RateLimiter(REDIS_URL))
    policy = parse_policy({"pow": {"mode": "under_attack", "difficulty": 100,
                                   "attack_ip_per_minute": 3}}).pow
    assert not one.requirement(policy, site, "ip1", "/a").required
    for meter in (one, two, one, two, one, two):
        meter.record(site, "ip1", "/a")
    hot = two.requirement(policy, site, "ip1", "/a")
    assert (hot.required, hot.level, hot.difficulty) == (True, 2, 1000)
    assert not one.requirement(policy, site, "ip2", "/b").required


def test_a_redis_limit_blocks_with_the_time_left_and_counts_nothing_while_blocked() -> None:
    require(_redis_up(), "Redis is not running on 127.0.0.1:6379")
    namespace = "test-block-" + secrets.token_hex(4)
    limiter = RateLimiter(REDIS_URL)
    assert limiter.hit("1/minute;5/hour", namespace, ["v:1", "i:shared"]) is None
    wait = limiter.hit("1/minute;5/hour", namespace, ["v:2", "i:shared"])
    assert wait is not None and 1 <= wait <= 60
    # The blocked attempt counted nothing: v:2 is still free under its own key.
    assert limiter.hit("1/minute;5/hour", namespace, ["v:2", "i:other"]) is None


def test_it_prunes_keys_idle_past_the_longest_window() -> None:
    now = [1000.0]
    windows = LocalWindows(clock=lambda: now[0])
    windows.hit(((1, 60),), ["post:old"])
    now[0] += 3601  # past the longest window (an hour by default)
    for i in range(SWEEP_EVERY - 1):
        windows.record(f"attack:{i % 10}", 60)
    assert "post:old" not in windows.events
    assert set(windows.events) == {f"attack:{i}" for i in range(10)}


def test_it_drops_events_older_than_the_window_from_memory() -> None:
    now = [1000.0]
    windows = LocalWindows(clock=lambda: now[0])
    windows.longest = 60
    assert windows.hit(((1, 60),), ["post:a"]) is None
    now[0] += 61
    assert windows.hit(((1, 60),), ["post:a"]) is None
    assert list(windows.events["post:a"]) == [1061.0]
    windows.record("attack:a", 60)
    now[0] += 61
    windows.record("attack:a", 60)
    assert list(windows.events["attack:a"]) == [1122.0]
    assert windows.count("attack:a", 60) == 1


def test_while_redis_is_unreachable_limits_count_here_and_are_shared_again_once_it_is_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    # Redis down must not stop every post, vote and subscription (each counts against
    # a limit): the limits hold in each process meanwhile, as without redis_url.
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    monkeypatch.setattr(ratelimit, "REDIS_RETRY_SECONDS", 0.2)
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    limiter = RateLimiter(url)
    namespace = "test-down-" + secrets.token_hex(4)
    with caplog.at_level(logging.WARNING, logger="rostra.ratelimit"):
        assert limiter.hit("2/minute", namespace, ["ip"]) is None
        assert limiter.hit("2/minute", namespace, ["ip"]) is None
        assert limiter.hit("2/minute", namespace, ["ip"]) is not None
        limiter.record(namespace, "seen")
        assert limiter.count(namespace, "seen") == 1
    assert [r.getMessage() for r in caplog.records].count(
        f"rate limits: Redis at {url} is unreachable; counting in this process until "
        "it is back") == 1
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        time.sleep(0.3)  # past REDIS_RETRY_SECONDS
        other = RateLimiter(url)
        limiter.record(namespace, "shared")
        other.record(namespace, "shared")
        assert limiter.count(namespace, "shared") == 2
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_server_whose_redis_is_down_still_takes_comments_within_its_limits() -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with running_server("sqlite", redis_url=down, rate_limits=True) as server:
        site = server.add_site("rd" + secrets.token_hex(4), [ORIGIN], moderation={
            "mode": "post", "toxicity": False, "rate_limits": {"post_author": "2/minute"}})
        with server.client() as http:
            ana = Reader("Ana", http, site, ip="198.51.100.77")
            answers = [ana.post("/redis-down/", f"Comment number {n} on the ferry timetable.")
                       for n in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 429], [a.text for a in answers]


def test_the_warning_that_redis_is_unreachable_never_shows_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"redis://:s3cret-pass@127.0.0.1:{free_port()}/0"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="rostra.ratelimit"):
        assert RateLimiter(url).hit("5/minute", "pw-" + secrets.token_hex(4), ["ip"]) is None
    [warning] = [r.getMessage() for r in caplog.records]
    assert "s3cret-pass" not in warning
    assert "redis://:***@127.0.0.1:" in warning
