"""Rate limits in memory and in Redis."""

from __future__ import annotations

import secrets
import socket

from rostra.moderation.ratelimit import RateLimiter
from tests.conftest import require


def test_it_allows_up_to_the_limit_then_says_how_long_to_wait() -> None:
    limiter = RateLimiter()
    results = [limiter.hit("3/minute", "post", ["v:1", "i:1"]) for _ in range(4)]
    assert results[:3] == [None, None, None]
    assert results[3] is not None and 1 <= results[3] <= 60


def test_it_limits_each_key_separately_and_any_key_blocks() -> None:
    limiter = RateLimiter()
    assert limiter.hit("1/minute", "post", ["v:1", "i:shared"]) is None
    # Another voter id from the same address: the address is over its limit.
    assert limiter.hit("1/minute", "post", ["v:2", "i:shared"]) is not None
    assert limiter.hit("1/minute", "post", ["v:3", "i:other"]) is None


def test_it_turns_off_with_an_empty_spec() -> None:
    limiter = RateLimiter()
    assert all(limiter.hit("", "post", ["v:1"]) is None for _ in range(100))


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_it_shares_counts_through_redis() -> None:
    require(_redis_up(), "Redis is not running on 127.0.0.1:6379")
    namespace = "test-" + secrets.token_hex(4)
    one, two = RateLimiter("redis://127.0.0.1:6379/0"), RateLimiter("redis://127.0.0.1:6379/0")
    assert one.hit("2/minute", namespace, ["k"]) is None
    assert two.hit("2/minute", namespace, ["k"]) is None
    assert one.hit("2/minute", namespace, ["k"]) is not None
