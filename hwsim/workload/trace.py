"""The trace file: the contract between `dfs_models` (which writes it) and the simulator.

A trace is JSON Lines, optionally gzip-compressed (detected from the magic bytes, so `.jsonl.gz`
reads transparently). Line 1 is the header (model, network layer table, option set, cp); every
further line is one input's per-block decision. Files are streamed, never loaded whole. The full
specification, with the error policy, is docs/trace-format.md.

Every problem raises `TraceError` with a message `PATH:LINE: what is wrong; how to fix it`.
The values and their validation live in `hwsim.workload.trace_schema`, their JSON form in
`hwsim.workload.trace_json`; everything public is re-exported here.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwsim.errors import TraceError
from hwsim.workload.trace_json import (
    RECORD_KEYS,
    RecordColumns,
    first_duplicate,
    header_from_dict,
    header_to_dict,
    parse_header_line,
    record_from_obj,
)
from hwsim.workload.trace_schema import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_BITS,
    CpInfo,
    InputRecord,
    ModelInfo,
    SourceKind,
    TraceHeader,
    record_header_problem,
)

__all__ = [
    "FORMAT_NAME", "FORMAT_VERSION", "MAX_BITS", "CpInfo", "InputRecord", "ModelInfo",
    "SourceKind", "Trace", "TraceHeader", "TraceWriter", "header_from_dict", "header_to_dict",
    "iter_records", "load_trace", "read_header", "write_trace",
]

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK_BYTES = 1 << 16
_GZIP_LEVEL = 6  # as gzip(1): level 9 is ~9x slower here for ~10% smaller traces
_FLUSH_EVERY_RECORDS = 512


class TraceWriter:
    """Writes a trace atomically: a temporary file beside `path`, renamed on a clean close.

    Use as a context manager. An exception inside the `with` block (or a failed final check)
    removes the temporary file, so a crash never leaves a half-written trace. The output is
    gzip-compressed (with mtime 0, so equal content gives equal bytes) when `path` ends in `.gz`.
    Each record is validated against the header before it is written.
    """

    def __init__(self, path: str | os.PathLike[str], header: TraceHeader) -> None:
        self.path = Path(path)
        self.header = header
        self.count = 0
        self._allowed = {(o.act_bits, o.wgt_bits) for o in header.network.options}
        self._seen_ids: dict[int, int] = {}
        self._pending: list[str] = []
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self._raw = open(self._tmp, "xb")  # noqa: SIM115 - closed in close()/abort()
        except OSError as exc:
            raise TraceError(f"{self.path}:1: cannot create the trace ({exc.strerror}); "
                             "check that the directory exists and is writable") from None
        self._out: io.BufferedIOBase = self._raw
        if self.path.name.endswith(".gz"):
            self._out = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0,
                                      compresslevel=_GZIP_LEVEL)
        self._pending.append(json.dumps(header_to_dict(header), separators=(",", ":")))

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, record: InputRecord) -> None:
        """Validates `record` against the header and appends it as the next line."""
        line = self.count + 2
        where = f"{self.path}:{line}"
        problem = record_header_problem(record, self.header, self._allowed)
        if problem:
            raise TraceError(f"{where}: {problem}")
        first = self._seen_ids.setdefault(record.id, line)
        if first != line:
            raise TraceError(f"{where}: duplicate id {record.id} (first on line {first}); "
                             "give every input a unique id")
        self._pending.append(json.dumps(_record_to_dict(record), separators=(",", ":")))
        self.count += 1
        if len(self._pending) >= _FLUSH_EVERY_RECORDS:
            self._flush()

    def close(self) -> None:
        """Checks `num_inputs`, then moves the finished file into place."""
        try:
            expected = self.header.num_inputs
            if expected is not None and expected != self.count:
                raise TraceError(f"{self.path}:1: the header says num_inputs {expected} but "
                                 f"{self.count} records were written; fix num_inputs or the data")
            self._flush()
            if self._out is not self._raw:
                self._out.close()  # writes the gzip trailer; leaves the raw file open
            self._raw.flush()
            os.fsync(self._raw.fileno())
            self._raw.close()
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Discards everything written so far."""
        with contextlib.suppress(OSError, ValueError, EOFError, zlib.error):
            self._out.close()
        self._raw.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._tmp)

    def _flush(self) -> None:
        if self._pending:
            self._out.write(("\n".join(self._pending) + "\n").encode("utf-8"))
            self._pending.clear()


def _record_to_dict(record: InputRecord) -> dict[str, object]:
    return {"id": record.id, "label": record.label, "prediction": record.prediction,
            "act_bits": list(record.act_bits), "wgt_bits": list(record.wgt_bits)}


def write_trace(path: str | os.PathLike[str], header: TraceHeader,
                records: Iterable[InputRecord]) -> int:
    """Writes a whole trace atomically and returns the number of records written."""
    with TraceWriter(path, header) as writer:
        for record in records:
            writer.write(record)
    return writer.count


class _HashingReader(io.RawIOBase):
    """Hashes (and counts, for the progress bar) the bytes of the file as stored."""

    def __init__(self, raw: io.BufferedIOBase, digest: hashlib._Hash, bar: object) -> None:
        self._raw, self._digest, self._bar = raw, digest, bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = self._raw.readinto(buffer)
        if count:
            self._digest.update(memoryview(buffer)[:count])
            if self._bar is not None:
                self._bar.update(count)
        return count

    def drain(self) -> None:
        while self.read(_CHUNK_BYTES):
            pass


@contextlib.contextmanager
def _open_lines(path: Path, digest: hashlib._Hash | None = None,
                bar: object = None) -> Iterator[tuple[Iterator[tuple[int, bytes]], _HashingReader]]:
    """Yields an iterator of (line number, raw line) over non-blank lines, and the byte source."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise TraceError(f"{path}:1: cannot open the trace ({exc.strerror}); "
                         "check the path") from None
    with raw:
        source = _HashingReader(raw, digest or hashlib.sha256(), bar)
        buffered = io.BufferedReader(source, buffer_size=_CHUNK_BYTES)
        stream: io.BufferedIOBase = buffered
        if buffered.peek(2)[:2] == _GZIP_MAGIC:
            stream = gzip.GzipFile(fileobj=buffered, mode="rb")
        yield _numbered_lines(stream, path), source


def _numbered_lines(stream: io.BufferedIOBase, path: Path) -> Iterator[tuple[int, bytes]]:
    """Numbers lines from 1; blank lines are allowed only at the end of the file."""
    lines = iter(stream)
    number, blank_at = 0, 0
    while True:
        try:
            raw = next(lines)
        except StopIteration:
            return
        except (EOFError, OSError, zlib.error) as exc:
            raise TraceError(
                f"{path}:{number + 1}: the gzip stream is truncated or corrupt ({exc}); the last "
                f"good line is {number}; regenerate or re-copy the file") from None
        number += 1
        if not raw.strip():
            blank_at = blank_at or number
            continue
        if blank_at:
            raise TraceError(f"{path}:{blank_at}: blank line before more records (line {number}); "
                             "remove it: blank lines are allowed only at the end")
        yield number, raw


def _read_first(lines: Iterator[tuple[int, bytes]], path: Path) -> TraceHeader:
    first = next(lines, None)
    if first is None:
        raise TraceError(f"{path}:1: the file is empty; a trace starts with a header line")
    number, raw = first
    if number != 1:
        raise TraceError(f"{path}:1: line 1 is blank; the header must be on line 1")
    return parse_header_line(raw, f"{path}:1")


def read_header(path: str | os.PathLike[str]) -> TraceHeader:
    """Reads and validates only the header (line 1)."""
    path = Path(path)
    with _open_lines(path) as (lines, _source):
        return _read_first(lines, path)


def iter_records(path: str | os.PathLike[str],
                 header: TraceHeader | None = None) -> Iterator[InputRecord]:
    """Streams the records of a trace, validating each against the header.

    Args:
        path: the trace file.
        header: the header to validate against instead of the file's own (line 1 is
            checked either way).

    Raises:
        TraceError: on the first bad line, or at the end when `num_inputs` disagrees.
    """
    path = Path(path)
    with _open_lines(path) as (lines, _source):
        file_header = _read_first(lines, path)
        header = header or file_header
        allowed = {(o.act_bits, o.wgt_bits) for o in header.network.options}
        seen: dict[int, int] = {}
        for number, raw in lines:
            record = record_from_obj(_loads(raw, path, number), header, allowed,
                                     f"{path}:{number}")
            first = seen.setdefault(record.id, number)
            if first != number:
                raise _duplicate_error(path, record.id, first, number)
            yield record
        _check_count(path, header, len(seen))


def _loads(raw: bytes, path: Path, number: int) -> object:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TraceError(f"{path}:{number}: not valid JSON ({exc}); the line is corrupt, "
                         "regenerate the trace") from None


def _duplicate_error(path: Path, record_id: int, first: int, second: int) -> TraceError:
    return TraceError(f"{path}:{second}: duplicate id {record_id} (also on line {first}); "
                      "give every input a unique id")


def _check_count(path: Path, header: TraceHeader, count: int) -> None:
    if header.num_inputs is not None and header.num_inputs != count:
        raise TraceError(f"{path}:1: the header says num_inputs {header.num_inputs} but the file "
                         f"holds {count} records; the file may be cut short, or fix num_inputs")


@dataclass(frozen=True, slots=True, eq=False)
class Trace:
    """A whole trace as read-only numpy arrays, row i = the i-th record of the file.

    Attributes:
        sha256: hex digest of the file bytes as stored (compressed if gzip).
        labels, predictions: -1 where unknown.
        act_bits, wgt_bits: (num_inputs, num_blocks), columns in `header.network.blocks` order;
            0 means the block is skipped for that input.
    """

    header: TraceHeader
    path: str
    sha256: str
    ids: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    act_bits: np.ndarray
    wgt_bits: np.ndarray

    @property
    def num_inputs(self) -> int:
        return int(self.ids.shape[0])


def load_trace(path: str | os.PathLike[str], progress: bool = False) -> Trace:
    """Loads a trace into numpy arrays, streaming it line by line.

    Lines are parsed with `json.loads`; values are checked vectorized after one conversion;
    any failure is re-checked record by record so the error names the first offending line.

    Args:
        path: the trace file (plain or gzip).
        progress: show a tqdm bar over bytes read (only when stderr is a terminal).
    """
    path = Path(path)
    digest = hashlib.sha256()
    with _progress_bar(path, progress) as bar, _open_lines(path, digest, bar) as (lines, source):
        header = _read_first(lines, path)
        allowed = {(o.act_bits, o.wgt_bits) for o in header.network.options}
        columns = RecordColumns()
        for number, raw in lines:
            _gather(columns, raw, path, number, header, allowed)
        source.drain()
    arrays = columns.to_arrays(len(header.network.blocks), allowed)
    if arrays is None:
        _recheck(columns, path, header, allowed)
    _check_duplicates(arrays[0], path, columns.first_line)
    _check_count(path, header, len(columns.ids))
    for array in arrays:
        array.setflags(write=False)
    return Trace(header, str(path), digest.hexdigest(), *arrays)


def _gather(columns: RecordColumns, raw: bytes, path: Path, number: int, header: TraceHeader,
            allowed: set[tuple[int, int]]) -> None:
    obj = _loads(raw, path, number)
    # Lines that are not plainly well formed get the full check now, which names the problem.
    if type(obj) is not dict or obj.keys() != RECORD_KEYS or b"true" in raw or b"false" in raw:
        record_from_obj(obj, header, allowed, f"{path}:{number}")
    columns.add(obj)


def _recheck(columns: RecordColumns, path: Path, header: TraceHeader,
             allowed: set[tuple[int, int]]) -> None:
    """Validates record by record to name the first bad line; the fast check found one."""
    for index in range(len(columns.ids)):
        record_from_obj(columns.record_obj(index), header, allowed,
                        f"{path}:{columns.first_line + index}")
    raise AssertionError("the vectorized trace check failed but no record is invalid")


def _check_duplicates(ids: np.ndarray, path: Path, first_line: int) -> None:
    pair = first_duplicate(ids)
    if pair is not None:
        first, second = pair
        raise _duplicate_error(path, int(ids[second]), first_line + first, first_line + second)


@contextlib.contextmanager
def _progress_bar(path: Path, progress: bool) -> Iterator[object]:
    if not (progress and sys.stderr.isatty()):
        yield None
        return
    from tqdm import tqdm

    try:
        total = path.stat().st_size
    except OSError:
        total = None
    with tqdm(total=total, unit="B", unit_scale=True, desc=path.name, leave=False) as bar:
        yield bar
