"""Files sent to the emulator: stored by file_id, reused by file_id, served back by getFile."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from hookgram.sandbox.replies import APIError

_FOLDERS = {
    "photo": "photos",
    "document": "documents",
    "voice": "voice",
    "video": "videos",
    "sticker": "stickers",
    "animation": "animations",
    "audio": "music",
}
_WRONG_FILE = "wrong file_id or the file is temporarily unavailable"


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One file as Telegram keeps it: ids, name, type, bytes (None when not kept) and path."""

    file_id: str
    unique_id: str
    name: str | None
    mime_type: str | None
    content: bytes | None
    path: str | None

    @property
    def size(self) -> int | None:
        """The size in bytes, when the bytes are known."""
        return None if self.content is None else len(self.content)

    def fields(self) -> dict[str, Any]:
        """file_id, file_unique_id and file_size, the fields every Telegram file object has."""
        found: dict[str, Any] = {"file_id": self.file_id, "file_unique_id": self.unique_id}
        if self.size is not None:
            found["file_size"] = self.size
        return found


class Files:
    """Uploads by file_id (and by path for downloads); nothing is kept when `keep` is False."""

    def __init__(self, *, keep: bool) -> None:
        self._keep = keep
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}

    def store(self, kind: str, name: str | None, content: bytes) -> StoredFile:
        """Keep an upload; the same bytes of the same kind get the same file_id again."""
        digest = hashlib.sha256(kind.encode() + b"\0" + content).hexdigest()
        file_id = f"emu-{kind}-{digest[:24]}"
        known = self._by_id.get(file_id)
        if known is not None:
            return known
        mime = (mimetypes.guess_type(name)[0] if name else None) or _default_mime(kind)
        extension = mimetypes.guess_extension(mime) or ""
        path = f"{_FOLDERS.get(kind, 'documents')}/file_{len(self._by_path)}{extension}"
        stored = StoredFile(file_id, digest[:16], name, mime, content, path)
        if self._keep:
            self._by_id[file_id] = stored
            self._by_path[path] = stored
        return stored

    def alias(self, file_id: str, original: StoredFile) -> None:
        """Let another file_id (e.g. a photo's thumbnail size) name the same bytes."""
        if self._keep:
            self._by_id[file_id] = original

    def resolve(self, kind: str, value: tuple[str, bytes] | str) -> StoredFile:
        """The file an upload, a known file_id, or an unknown file_id/URL stands for."""
        if isinstance(value, tuple):
            return self.store(kind, value[0], value[1])
        known = self._by_id.get(value)
        if known is not None:
            return known
        # A file_id from elsewhere (a test's update, a URL): usable, but its bytes are unknown.
        unique = hashlib.sha256(value.encode()).hexdigest()[:16]
        return StoredFile(value, unique, None, None, None, None)

    def get(self, file_id: str) -> StoredFile | None:
        """A stored file by file_id."""
        return self._by_id.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        """A stored file by the file_path getFile gave."""
        return self._by_path.get(path)


def file_info(files: Files, file_id: str | None) -> dict[str, Any]:
    """The File object of getFile, with the file_path for the download route."""
    stored = files.get(file_id or "")
    if stored is None or stored.path is None:
        raise APIError.bad_request(_WRONG_FILE if file_id else "file_id not specified")
    return {**stored.fields(), "file_path": stored.path}


def file_response(stored: StoredFile | None) -> web.Response:
    """The bytes of a stored file, or Telegram's 404 for a download that is not there."""
    if stored is None or stored.content is None:
        return APIError(404).response()
    return web.Response(body=stored.content, content_type=stored.mime_type or "")


def _default_mime(kind: str) -> str:
    return {
        "photo": "image/jpeg",
        "voice": "audio/ogg",
        "video": "video/mp4",
        "sticker": "image/webp",
        "animation": "video/mp4",
        "audio": "audio/mpeg",
    }.get(kind, "application/octet-stream")
