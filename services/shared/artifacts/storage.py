"""Where artifact bytes live, behind a small interface so that an S3-compatible store can replace the disk.

An upload is streamed in two steps: `stage` writes the incoming chunks to a private temporary object while
hashing them (SHA-256) and counting their size, never holding the whole file in memory, and refuses past
`max_bytes`; `commit` then places the staged bytes under their content key (the same content is stored once:
committing content already stored replaces it with identical bytes) or `discard` drops them. Keys are
"<tenant>/<sha256>": content-addressed per tenant, so no tenant's storage use reveals another's files."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from shared.errors import DomainError

CHUNK = 1024 * 1024  # bytes written (and read) per call


class ArtifactTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


@dataclass(frozen=True, slots=True)
class Staged:
    """Bytes received and hashed, not yet placed under their key."""

    ref: str  # the storage's handle of the temporary object
    sha256: str
    size: int


def content_key(tenant_id: str, sha256: str) -> str:
    return f"{tenant_id}/{sha256}"


class ArtifactStorage(Protocol):
    async def stage(self, chunks: AsyncIterable[bytes], max_bytes: int) -> Staged:
        """Stores the stream temporarily, hashing it; past max_bytes, ArtifactTooLarge (nothing left)."""
        ...

    async def commit(self, staged: Staged, key: str) -> None:
        """Places staged bytes under `key` (replacing identical content already there)."""
        ...

    async def discard(self, staged: Staged) -> None: ...

    def open_range(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes [start, end) of the object, in chunks."""
        ...

    async def delete(self, key: str) -> None:
        """Removes the object; a missing one is not an error."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A file the web server may send itself (Range, If-Range, HEAD), or None for a remote store."""
        ...


class DiskStorage:
    """Objects as files under `root` (IOTCLOUD_HOME/artifacts by default): `<root>/<tenant>/<sha256>`, with
    staged uploads in `<root>/.staging/`. File I/O runs in worker threads, one CHUNK at a time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / ".staging"

    def _path(self, key: str) -> Path:
        tenant, sha = key.split("/", 1)
        return self.root / tenant / sha

    async def stage(self, chunks: AsyncIterable[bytes], max_bytes: int) -> Staged:
        await asyncio.to_thread(self.staging.mkdir, parents=True, exist_ok=True)
        path = self.staging / f"{secrets.token_hex(16)}.part"
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        handle: IO[bytes] = await asyncio.to_thread(path.open, "xb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise ArtifactTooLarge(f"artifact exceeds {max_bytes} bytes")
                digest.update(chunk)
                buffer += chunk
                if len(buffer) >= CHUNK:
                    await asyncio.to_thread(handle.write, bytes(buffer))
                    buffer.clear()
            if buffer:
                await asyncio.to_thread(handle.write, bytes(buffer))
            await asyncio.to_thread(_flush, handle)
        except BaseException:
            await asyncio.to_thread(_close_and_remove, handle, path)
            raise
        await asyncio.to_thread(handle.close)
        return Staged(ref=path.name, sha256=digest.hexdigest(), size=size)

    async def commit(self, staged: Staged, key: str) -> None:
        target = self._path(key)
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(os.replace, self.staging / staged.ref, target)

    async def discard(self, staged: Staged) -> None:
        await asyncio.to_thread((self.staging / staged.ref).unlink, missing_ok=True)

    async def open_range(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        handle: IO[bytes] = await asyncio.to_thread(self._path(key).open, "rb")
        try:
            await asyncio.to_thread(handle.seek, start)
            left = end - start
            while left > 0:
                data = await asyncio.to_thread(handle.read, min(CHUNK, left))
                if not data:
                    break
                left -= len(data)
                yield data
        finally:
            await asyncio.to_thread(handle.close)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


def _flush(handle: IO[bytes]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _close_and_remove(handle: IO[bytes], path: Path) -> None:
    handle.close()
    path.unlink(missing_ok=True)
