"""Bytes <-> text for a user's file: encoding cookie, BOM, line endings kept as found."""

from __future__ import annotations

import codecs
import io
import os
import tokenize
from dataclasses import dataclass
from pathlib import Path


class SourceError(Exception):
    """A file that cannot be read or decoded. str(err) is a one-line reason."""


@dataclass
class SourceFile:
    path: Path
    raw: bytes
    text: str
    encoding: str  # codec used to decode; "utf-8-sig" when the file has a BOM

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def decode_source(raw: bytes, path: Path) -> SourceFile:
    if b"\x00" in raw:
        raise SourceError("binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        raise SourceError(f"cannot determine encoding: {exc}") from None
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r} in coding cookie") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            f"not valid {encoding}: byte 0x{raw[exc.start]:02x} at line {line} "
            f"(offset {exc.start}); declare the encoding with a coding cookie"
        ) from None
    if encoding == "utf-8-sig" and text.startswith("\ufeff"):
        text = text[1:]
    return SourceFile(path=path, raw=raw, text=text, encoding=encoding)


def read_source(path: Path, max_bytes: int | None = None) -> SourceFile:
    try:
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise SourceError(
                f"file is {path.stat().st_size} bytes, over the size limit "
                f"({max_bytes} bytes, `max-file-size` in config); skipped"
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SourceError("no such file or directory") from None
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except PermissionError:
        raise SourceError("permission denied") from None
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc)) from None
    return decode_source(raw, path)


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a temp file in the same directory, then replace; keep permission bits."""
    st = os.stat(path)
    tmp = path.with_name(f".{path.name}.msfix-{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
