"""Streaming a CSV file: detect its encoding and delimiter, yield rows with line numbers.

Never reads the whole file: the csv module pulls lines from a decoding
wrapper over the file, so memory stays bounded by the longest record.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pavior.core.csv_rules import DELIMITER_NAMES, NotCsv, detect_delimiter, detect_encoding
from pavior.core.errors import PaviorError

SAMPLE_BYTES = 64 * 1024
# A field longer than this is certainly a broken file (an unclosed quote
# swallowing the rest); the limit also bounds memory per record.
MAX_FIELD_BYTES = 4 * 1024 * 1024
csv.field_size_limit(MAX_FIELD_BYTES)

ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1")


class ImportFileError(PaviorError):
    """The file cannot be read as CSV; the message names the line."""

    code = "invalid_file"


@dataclass
class CsvFile:
    path: Path
    encoding: str
    delimiter: str
    header: list[str]

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, self.delimiter)


def sniff(path: Path, *, encoding: str | None = None, delimiter: str | None = None) -> CsvFile:
    """Open ``path`` enough to know how to read it, and read its header."""
    with open(path, "rb") as f:
        sample = f.read(SAMPLE_BYTES)
    if not sample.strip():
        raise ImportFileError("The file is empty", field="file")
    try:
        enc = encoding or detect_encoding(sample)
        codecs.lookup(enc)
    except NotCsv as e:
        raise ImportFileError(f"This is not a CSV file: {e} (line 1)", field="file") from e
    except LookupError as e:
        raise ImportFileError(f"Unknown encoding {encoding!r}", field="encoding") from e
    text = sample.decode(enc, errors="ignore")
    if delimiter is not None:
        if delimiter not in DELIMITER_NAMES:
            raise ImportFileError(
                "The delimiter must be one of comma, semicolon, tab or pipe", field="delimiter"
            )
        delim = delimiter
    else:
        try:
            delim = detect_delimiter(text.lstrip("\ufeff"))
        except NotCsv as e:
            raise ImportFileError(f"This is not a CSV file: {e} (line 1)", field="file") from e
    probe = CsvFile(Path(path), enc, delim, [])
    for _line, cells in iter_rows(probe, header=True):
        header = [c.strip().lstrip("\ufeff") for c in cells]
        if not any(header):
            raise ImportFileError("Line 1 (the header) has no column names", field="file")
        probe.header = header
        return probe
    raise ImportFileError("The file is empty", field="file")


def iter_rows(
    src: CsvFile,
    *,
    header: bool = False,
    on_progress: Callable[[int], None] | None = None,
    every: int = 20000,
) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) of each record; skips the header unless asked.

    Blank lines are skipped. ``on_progress`` gets the bytes read so far
    every ``every`` records.
    """
    raw = open(src.path, "rb")  # noqa: SIM115 - closed in finally; the generator owns it
    try:
        text = io.TextIOWrapper(raw, encoding=src.encoding, errors="strict", newline="")
        ended = [False]

        def lines() -> Iterator[str]:
            yield from text
            ended[0] = True

        # Not strict, so stray quotes are read as spreadsheets read them
        # (`a"b` stays, `"a"b` is `ab`). But then the reader also returns a
        # record whose quote is never closed, cut by the end of the file,
        # instead of failing; it does so only after asking for a line past
        # the end, which `ended` records (one flag check per record).
        reader = csv.reader(lines(), delimiter=src.delimiter, strict=False)
        prev = 0
        n = 0
        first = True
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except UnicodeDecodeError as e:
                raise ImportFileError(
                    f"Line {_undecodable_line(src)}: the file is not valid {src.encoding} text "
                    f"(byte 0x{e.object[e.start]:02x}); save it as UTF-8 and upload it again",
                    field="file",
                ) from None
            except csv.Error as e:
                raise ImportFileError(_csv_message(e, prev + 1), field="file") from None
            line = prev + 1
            if ended[0]:
                raise ImportFileError(
                    f'Line {line}: a quote (") opens a value that is never closed, so the '
                    "rest of the file would be read as that one value; close the quote "
                    "or remove it, then upload the file again",
                    field="file",
                )
            prev = reader.line_num
            if first:
                first = False
                if not header:
                    continue
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            n += 1
            if on_progress is not None and n % every == 0:
                on_progress(raw.tell())
            yield line, cells
        if on_progress is not None:
            on_progress(raw.tell())
    finally:
        raw.close()


_LINE_END = re.compile(r"\r\n|\r|\n")


def _undecodable_line(src: CsvFile) -> int:
    """The line of the first byte that is not ``src.encoding`` text. The
    reader decodes ahead of the line it parses, so its own count would name
    an earlier line: read the file again (only when it is broken) up to that byte."""
    decoder = codecs.getincrementaldecoder(src.encoding)(errors="strict")
    lines, after_cr = 1, False
    with open(src.path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as e:
                text = e.object[: e.start].decode(src.encoding, errors="ignore")
                chunk = b""
            # A \r\n split between two chunks is one line end, not two.
            lines += len(_LINE_END.findall(text)) - (after_cr and text.startswith("\n"))
            after_cr = text.endswith("\r") or (after_cr and not text)
            if not chunk:
                break
    return lines


def _csv_message(e: csv.Error, line: int) -> str:
    text = str(e)
    if "field larger than field limit" in text:
        return (
            f"Line {line}: a field is larger than {MAX_FIELD_BYTES // (1024 * 1024)} MB; "
            "the file probably has a quote that is never closed"
        )
    if "NUL" in text or "null byte" in text:
        return f"Line {line}: the file contains binary data (NUL bytes); it is not a CSV file"
    return f"Line {line}: the file is not valid CSV ({text})"
