"""Downloads streamed under ASGI without holding the whole file in memory.

Django's ASGI handler reads a response's *synchronous* iterator to the end
into a list before it sends the first byte (it warns "StreamingHttpResponse
must consume synchronous iterators"), so an export of a million users would
sit in memory whole. These responses take asynchronous iterators instead: each
page of rows (or block of a file) is produced in a worker thread and sent
before the next one is read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

BLOCK_SIZE = 64 * 1024


def paged_response(
    first: str,
    page: Callable[[Any], tuple[list[str], Any]],
    *,
    content_type: str,
    filename: str,
) -> StreamingHttpResponse:
    """`first`, then the lines of page(None), page(next), … until a page says
    there is no next one; `page` runs in Django's database thread."""

    async def lines() -> AsyncIterator[str]:
        yield first
        fetch = sync_to_async(page, thread_sensitive=True)
        cursor: Any = None
        while True:
            chunk, cursor = await fetch(cursor)
            if chunk:
                yield "".join(chunk)
            if cursor is None:
                return

    return _attachment(StreamingHttpResponse(lines(), content_type=content_type), filename)


def file_response(path: Path, *, content_type: str, filename: str) -> StreamingHttpResponse:
    """The file at `path`, read a block at a time in a worker thread."""
    handle = path.open("rb")
    size = path.stat().st_size

    async def blocks() -> AsyncIterator[bytes]:
        read = sync_to_async(handle.read, thread_sensitive=False)
        try:
            while block := await read(BLOCK_SIZE):
                yield block
        finally:
            handle.close()

    response = StreamingHttpResponse(blocks(), content_type=content_type)
    response["Content-Length"] = str(size)
    return _attachment(response, filename)


def _attachment(response: StreamingHttpResponse, filename: str) -> StreamingHttpResponse:
    # Django's own header builder: quotes escaped, non-ASCII names per RFC 6266.
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
