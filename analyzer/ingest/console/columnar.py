"""The bulk path of large logs on a columnar engine: numpy finds a block's dicts, their values and bars in
its UTF-8 bytes, pyarrow checks them with one RE2 search per piece and parses the values, and only the
chunks between dicts that are not one redrawn bar are read in Python. It reads what bulk.read_bulk reads
(that module states the semantics); a block it cannot read the same way (a NUL byte, a counter in
non-ASCII digits or spaces) goes back to the regex path unread."""

from __future__ import annotations

import functools
import re
import sys
from types import ModuleType

import numpy as np

from analyzer.ingest.console import bulk
from analyzer.ingest.console.lines import read_text
from analyzer.ingest.console.records import value_of
from analyzer.ingest.console.state import State

MIN_BYTES = 32 << 20  # smaller files: importing pyarrow (~0.1 s) costs more than it saves
_KEY = re.compile(r"[\w./-]+", re.ASCII)  # keys whose layout is found byte by byte
MAX_DIGITS = 18  # a counter with more digits is read by Python (int64 holds 18 for sure)


def engine() -> ModuleType | None:
    """pyarrow, imported now, or None when it is not installed (the regex path reads everything then)."""
    try:
        import pyarrow
        import pyarrow.compute  # the kernels used below
    except ImportError:
        return None
    return pyarrow


def read_columnar(state: State, text: str, pa: ModuleType, final: bool = False) -> str | None:
    """bulk.read_bulk on the columnar engine: the same records, steps and lines. Returns the carry for
    the next block, or None, with nothing read, when the block is for the regex path."""
    assert state.fast is not None
    keys, pattern = state.fast
    if "\x00" in text or not all(_KEY.fullmatch(k) for k in keys):
        return None
    text, carry = (text, "") if final else bulk.split_carry(keys, pattern, text)
    data = text.encode()  # offsets below are in bytes: every one falls on an ASCII delimiter
    buf = np.frombuffer(data, dtype=np.uint8)
    begins = _find(buf, ("{'" + keys[0] + "': ").encode())
    if not len(begins):
        read_text(state, text)
        return carry
    ends, bounds = _bounds(buf, begins, keys)
    regex = "^(?:" + pattern.pattern.replace("([^", "(?:[^") + "|" + _one_bar() + ")$"  # a dict or one bar
    cuts, matched = _check(pa, data, begins, ends, regex)
    if not matched[0::2].all():  # a head literal that starts no dict of the layout: part of the text between
        keep = matched[0::2]
        begins, ends, bounds = begins[keep], ends[keep], bounds[keep]
        if not len(begins):
            read_text(state, text)
            return carry
        cuts, matched = _check(pa, data, begins, ends, regex)
    n, total = _bar_counters(buf, cuts[1::2], matched[1::2])
    if n is None or total is None:
        return None
    values = _values(pa, data, bounds, len(keys))
    newline = np.flatnonzero(buf == ord("\n"))
    newlines = np.searchsorted(newline, cuts[2::2]) - np.searchsorted(newline, cuts[1::2])
    bulk.start(state, data[: begins[0]].decode())

    def chunk(i: int) -> str:
        return data[cuts[2 * i + 1] : cuts[2 * i + 2]].decode()

    steps, lines = bulk.place(state, n, total, newlines.astype(np.int64), chunk)
    bulk.emit(state, keys, steps, lines, values)
    return carry


@functools.cache
def _one_bar() -> str:
    """bulk's one-bar test for RE2, with Python's \\s and \\d spelled out as the characters they match."""
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    space, digit = (_class(re.findall(shorthand, every)) for shorthand in (r"\s", r"\d"))
    core = bulk.BAR_CORE.replace(r"\d", digit).replace(r"\s", space)
    return r"[\r\n \t]*[^\r\n%{=]{0,200}?" + core.replace("?P<n>", "?:").replace("?P<total>", "?:") + r"[\r\n \t]*"


def _class(chars: list[str]) -> str:
    """An RE2 character class of `chars`, in runs of consecutive code points."""
    runs: list[list[int]] = []
    for code in map(ord, chars):
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "[" + "".join(f"\\x{{{a:x}}}" + (f"-\\x{{{b:x}}}" if b > a else "") for a, b in runs) + "]"


def _check(
    pa: ModuleType, data: bytes, begins: np.ndarray, ends: np.ndarray, regex: str
) -> tuple[np.ndarray, np.ndarray]:
    """The cuts between dicts and the chunks after them (dict i: cuts[2i] to cuts[2i+1], then its chunk),
    and whether each piece matches `regex`. A dict that seems to run past the next one is cut there: it
    does not match."""
    cuts = np.empty(2 * len(begins) + 1, dtype=np.int64)
    cuts[0:-1:2], cuts[-1] = begins, len(data)
    cuts[1::2] = np.minimum(ends, cuts[2::2])
    pieces = pa.StringArray.from_buffers(len(cuts) - 1, pa.py_buffer(cuts.astype(np.int32)), pa.py_buffer(data))
    return cuts, pa.compute.match_substring_regex(pieces, regex).to_numpy(zero_copy_only=False)


def _find(buf: np.ndarray, literal: bytes) -> np.ndarray:
    """Where `literal` starts in buf."""
    at = np.flatnonzero(buf == literal[0])
    at = at[at + len(literal) <= len(buf)]
    for j in range(1, len(literal)):
        at = at[buf[at + j] == literal[j]]
    return at


def _bounds(buf: np.ndarray, begins: np.ndarray, keys: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Where each dict ends and its values begin and end (two columns per key), if the layout holds there
    (the regex check of each dict says whether it does): a value runs to the next `,` or `}`, less a
    closing quote, and the next key's text follows. A value of the layout holds neither, and no `{`: a
    match of the layout starts at its head literal and nowhere else."""
    ends = np.flatnonzero((buf == ord(",")) | (buf == ord("}")))
    ends = np.append(ends, len(buf) - 1)  # a dict cut by the end of the block ends there
    bounds = np.empty((len(begins), 2 * len(keys)), dtype=np.int64)
    at = begins + len(keys[0]) + 5  # after `{'key': `
    quote = ord("'")
    for j in range(len(keys)):
        at = np.minimum(at, len(buf) - 1)
        at = at + (buf[at] == quote)
        end = ends[np.minimum(np.searchsorted(ends, at), len(ends) - 1)]
        bounds[:, 2 * j], bounds[:, 2 * j + 1] = at, np.maximum(end - (buf[end - 1] == quote), at)
        at = end + (len(keys[j + 1]) + 6 if j + 1 < len(keys) else 1)  # past `, 'key': ` or `}`
    return at, bounds


def _bar_counters(buf: np.ndarray, starts: np.ndarray, is_bar: np.ndarray) -> tuple[np.ndarray | None, ...]:
    """(n, total) of each chunk that is one bar, -1 for the others: the digits around the `/` after the
    chunk's first `%` and the `|...|` or space that follows it (BAR_CORE's groups, found by position)."""
    n = np.full(len(starts), -1, dtype=np.int64)
    total = n.copy()
    rows = np.flatnonzero(is_bar)
    if not len(rows):
        return n, total
    percent, pipe, slash, bracket = (np.flatnonzero(buf == ord(c)) for c in "%|/[")
    at = percent[np.searchsorted(percent, starts[rows])] + 1
    piped = buf[at] == ord("|")
    at[piped] = pipe[np.searchsorted(pipe, at[piped] + 1)]
    at = at + 1
    cut = slash[np.searchsorted(slash, at)]
    close = bracket[np.searchsorted(bracket, cut)]
    first, second = _digits(buf, at, cut), _digits(buf, cut + 1, close)
    if first is None or second is None:
        return None, None
    n[rows], total[rows] = first, second
    return n, total


def _digits(buf: np.ndarray, begin: np.ndarray, end: np.ndarray) -> np.ndarray | None:
    """The whole number written in each buf[begin:end] (ASCII digits, ASCII spaces around them); None when
    one is longer than MAX_DIGITS or holds another byte (a non-ASCII digit or space: Python reads it)."""
    width = int((end - begin).max())
    if width > MAX_DIGITS + 8:
        return None
    value = np.zeros(len(begin), dtype=np.int64)
    digits = np.zeros(len(begin), dtype=np.int64)
    for j in range(width):
        inside = begin + j < end
        byte = buf[np.where(inside, begin + j, 0)].astype(np.int64) - ord("0")
        digit = inside & (byte >= 0) & (byte <= 9)
        if np.any(inside & (byte >= 0x80 - ord("0"))):
            return None
        value = np.where(digit, value * 10 + byte, value)
        digits += digit
    return None if digits.max() > MAX_DIGITS else value


def _values(pa: ModuleType, data: bytes, bounds: np.ndarray, width: int) -> list[np.ndarray]:
    """Each key's values as floats, parsed by Arrow (it accepts a subset of what float() does, with the
    same results); a key with any other value is parsed as bulk does, one value at a time by value_of."""
    offsets = bounds.reshape(-1)  # begin, end of every value in file order: the values and the gaps between
    pc = pa.compute
    texts = pa.StringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data))
    texts = pc.take(texts, pa.array(np.arange(0, len(offsets), 2)))  # row after row, `width` values each
    try:
        table = pc.cast(texts, pa.float64()).to_numpy(zero_copy_only=False).reshape(-1, width)
        return [table[:, j] for j in range(width)]
    except pa.ArrowInvalid:
        pass
    columns = []
    for j in range(width):
        column = pc.take(texts, pa.array(np.arange(j, len(texts), width)))
        try:
            columns.append(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
        except pa.ArrowInvalid:
            raw = column.to_pylist()
            columns.append(np.asarray([np.nan if (v := value_of(x)) is None else v for x in raw], dtype=np.float64))
    return columns
