"""GET /me's per-process cache: announcements invalidate it, stale reads are not kept, it expires."""

from __future__ import annotations

import time
import uuid

from dashboard.live.hub import SnapshotCache


def test_an_announced_version_drops_the_entry_and_refuses_older_reads() -> None:
    cache, user = SnapshotCache(size=10, ttl=60), uuid.uuid4()
    cache.put(user, 3, "{}")
    assert cache.get(user) == (3, "{}")
    cache.announce(user, 4)
    assert cache.get(user) is None
    cache.put(user, 3, "{}")  # a read that raced the announcement
    assert cache.get(user) is None
    cache.put(user, 4, '{"v":4}')
    assert cache.get(user) == (4, '{"v":4}')


def test_entries_expire_and_the_cache_is_bounded() -> None:
    cache = SnapshotCache(size=2, ttl=0.05)
    users = [uuid.uuid4() for _ in range(3)]
    for user in users:
        cache.put(user, 1, "{}")
    assert cache.get(users[0]) is None  # evicted
    assert cache.get(users[2]) == (1, "{}")
    time.sleep(0.06)
    assert cache.get(users[2]) is None
    assert SnapshotCache(size=2, ttl=0).get(users[0]) is None
