"""The disk implementation of the artifact storage interface, and the signed URL tokens."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.artifacts import urls
from shared.artifacts.storage import CHUNK, ArtifactStorage, ArtifactTooLarge, DiskStorage, content_key
from shared.errors import Forbidden

DATA = os.urandom(3 * CHUNK + 5)


async def _chunks(data: bytes, size: int = 70_000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def test_stage_commit_open_range_delete(tmp_path: Path) -> None:
    storage: ArtifactStorage = DiskStorage(tmp_path)
    staged = await storage.stage(_chunks(DATA), max_bytes=len(DATA))
    assert (staged.sha256, staged.size) == (hashlib.sha256(DATA).hexdigest(), len(DATA))
    key = content_key("t1", staged.sha256)
    await storage.commit(staged, key)
    assert not any((tmp_path / ".staging").iterdir())
    whole = b"".join([c async for c in storage.open_range(key, 0, len(DATA))])
    assert whole == DATA
    middle = b"".join([c async for c in storage.open_range(key, CHUNK - 3, 2 * CHUNK + 11)])
    assert middle == DATA[CHUNK - 3 : 2 * CHUNK + 11]
    assert storage.local_path(key) == tmp_path / "t1" / staged.sha256
    await storage.delete(key)
    await storage.delete(key)  # a missing object is not an error
    assert not (tmp_path / "t1" / staged.sha256).exists()


async def test_too_large_leaves_nothing(tmp_path: Path) -> None:
    storage = DiskStorage(tmp_path)
    with pytest.raises(ArtifactTooLarge):
        await storage.stage(_chunks(DATA), max_bytes=len(DATA) - 1)
    assert not any((tmp_path / ".staging").iterdir())


def test_url_tokens_verify_only_unchanged_and_unexpired() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    token = urls.sign("s" * 32, "t1", "d1", "a" * 64, now, timedelta(hours=1))
    grant = urls.verify("s" * 32, token, now + timedelta(minutes=59))
    assert (grant.tenant_id, grant.device_id, grant.sha256) == ("t1", "d1", "a" * 64)
    with pytest.raises(Forbidden, match="expired"):
        urls.verify("s" * 32, token, now + timedelta(hours=1))
    with pytest.raises(Forbidden, match="signature"):
        urls.verify("other" * 8, token, now)
