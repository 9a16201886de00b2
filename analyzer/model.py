"""The Run contract (metrics, events, meta) and the Finding and Report types built on it."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from analyzer.errors import ContractError, Problem
from analyzer.names import is_eval_split

# Column -> dtype of the long metrics frame: one row per observed value.
METRIC_DTYPES: dict[str, str] = {
    "step": "int64",
    "wall_time": "float64",  # seconds since the epoch (or a source's own start, or a console log's first midnight)
    "split": "category",  # train | eval | eval_<set> | test | predict | summary | system
    "metric": "category",  # canonical name (analyzer.names)
    "value": "float64",  # NaN and ±inf kept: they are evidence
    "source": "category",  # file path relative to the run folder
    "line": "Int64",  # line (text) or record number (JSON rows) in that file, 1-based
    "rank": "Int64",  # distributed rank when known
}

# Column -> dtype of the events frame: things that happened rather than values.
EVENT_DTYPES: dict[str, str] = {
    "step": "Int64",
    "wall_time": "float64",
    "kind": "object",  # oom, nccl_timeout, overflow_skip, exception, checkpoint, restart, run_end, ...
    "severity": "object",  # critical | error | warning | info
    "message": "object",
    "source": "object",
    "line": "Int64",
}

SEVERITIES: tuple[str, ...] = ("info", "warning", "error", "critical")

# The failure taxonomy (docs/design.md): every finding names one of these.
FAILURE_MODES: tuple[str, ...] = (
    "loss_zero",
    "loss_zero_grad_nan",
    "loss_nan",
    "grad_norm_nan",
    "eval_loss_nan",
    "fp16_overflow",
    "loss_spike",
    "divergence",
    "grad_explosion",
    "not_learning",
    "plateau",
    "overfitting",
    "oom",
    "memory_growth",
    "nccl_timeout",
    "dataloader_error",
    "crash",
    "throughput_drop",
)


def severity_rank(severity: str) -> int:
    """Order of a severity name: info 0 < warning 1 < error 2 < critical 3."""
    return SEVERITIES.index(severity)


_EMPTY: dict[str, pd.DataFrame] = {}  # built once: a frame from typed empty Series costs ~1 ms, a copy ~0.05


def empty_metrics() -> pd.DataFrame:
    """An empty metrics frame with the contract's columns and dtypes."""
    if "metrics" not in _EMPTY:
        _EMPTY["metrics"] = pd.DataFrame({c: pd.Series(dtype=t) for c, t in METRIC_DTYPES.items()})
    return _EMPTY["metrics"].copy()


def empty_events() -> pd.DataFrame:
    """An empty events frame with the contract's columns and dtypes."""
    if "events" not in _EMPTY:
        _EMPTY["events"] = pd.DataFrame({c: pd.Series(dtype=t) for c, t in EVENT_DTYPES.items()})
    return _EMPTY["events"].copy()


def _validate(frame: pd.DataFrame, dtypes: dict[str, str], what: str, producer: str) -> pd.DataFrame:
    missing = [c for c in dtypes if c not in frame.columns]
    if missing:
        raise ContractError(f"{producer}: {what} frame lacks columns {missing}")
    if list(frame.columns) != list(dtypes):  # already in contract order (most readers): no copy
        frame = frame[list(dtypes)]
    have = dict(zip(frame.columns, frame.dtypes, strict=True))  # one pass, not a Series per column
    for col, dtype in dtypes.items():
        actual = str(have[col])
        if dtype in ("object", "category"):  # strings; a few distinct values repeat over millions of rows
            if actual not in ("object", "string", "str", "category"):
                raise ContractError(f"{producer}: {what}.{col} is {actual}, expected strings")
        elif actual != dtype:
            raise ContractError(f"{producer}: {what}.{col} is {actual}, expected {dtype}")
    return frame


def validate_metrics(frame: pd.DataFrame, producer: str) -> pd.DataFrame:
    """Check a metrics frame against the contract; returns it with columns in contract order."""
    frame = _validate(frame, METRIC_DTYPES, "metrics", producer)
    for col in ("split", "metric", "source"):
        if frame[col].isna().any():
            raise ContractError(f"{producer}: metrics.{col} has missing values")
    return frame


def validate_events(frame: pd.DataFrame, producer: str) -> pd.DataFrame:
    """Check an events frame against the contract; returns it with columns in contract order."""
    frame = _validate(frame, EVENT_DTYPES, "events", producer)
    bad = set(frame["severity"].dropna().unique()) - set(SEVERITIES)
    if bad:
        raise ContractError(f"{producer}: unknown event severities {sorted(bad)}")
    return frame


@dataclass
class Frames:
    """What one parser read from one file: the contract's frames plus meta and problems."""

    metrics: pd.DataFrame = field(default_factory=empty_metrics)
    events: pd.DataFrame = field(default_factory=empty_events)
    meta: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class SourceInfo:
    """One input file and what became of it."""

    path: str
    format: str
    rows: int = 0
    status: str = "read"  # read | superseded | failed
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "rows": self.rows, "status": self.status, "note": self.note}


@dataclass
class Run:
    """A whole run on one step axis: the contract every later stage reads."""

    path: str
    metrics: pd.DataFrame
    events: pd.DataFrame
    meta: dict[str, Any]
    sources: list[SourceInfo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def _column(self, name: str) -> np.ndarray:
        """One metrics column as a numpy array, taken once per run (metrics are not changed later)."""
        columns = self.__dict__.setdefault("_columns", {})
        if name not in columns:
            columns[name] = self.metrics[name].to_numpy()
        return cast(np.ndarray, columns[name])

    def _series_index(self) -> dict[tuple[str, str], np.ndarray]:
        """Row positions of every (split, metric) series, grouped once (metrics are not changed later)."""
        index = self.__dict__.get("_series_rows")
        if index is None:
            index = _group_rows(self.metrics["split"], self.metrics["metric"]) if len(self.metrics) else {}
            self.__dict__["_series_rows"] = index
        return cast(dict[tuple[str, str], np.ndarray], index)

    def series_rows(self) -> dict[tuple[str, str], np.ndarray]:
        """Row positions in `metrics` of every (split, metric) series (computed once; do not modify)."""
        return self._series_index()

    def _rows(self, split: str, metric: str) -> np.ndarray:
        """Row positions of one series. `eval` stands for the run's one named eval set when it has no plain
        `eval` split (the Trainer's `metric_key_prefix="eval_test"` gives `eval_test/loss`)."""
        index = self._series_index()
        if split == "eval" and (split, metric) not in index:
            split = self._eval_alias()
        return index.get((split, metric), _NO_ROWS)

    def _eval_alias(self) -> str:
        alias = self.__dict__.get("_eval_split")
        if alias is None:
            splits = {s for s, _ in self._series_index()}
            named = sorted(s for s in splits if is_eval_split(s) and s != "eval")
            alias = self.__dict__["_eval_split"] = named[0] if "eval" not in splits and len(named) == 1 else "eval"
        return alias

    def series(self, metric: str, split: str = "train") -> pd.Series:
        """Values of one metric in one split, indexed by step (one value per step; of several ranks, the
        lowest rank's).
        Computed once per series: the rules and the report ask for the same series many times."""
        cache = self.__dict__.setdefault("_series_cache", {})
        if (split, metric) not in cache:
            cache[(split, metric)] = self._series(split, metric)
        return cache[(split, metric)].copy()

    def _series(self, split: str, metric: str) -> pd.Series:
        rows = self._rows(split, metric)
        name = f"{split}/{metric}"
        if not len(rows):
            return pd.Series(dtype="float64", name=name)
        steps = self._column("step")[rows]
        if len(steps) < 2 or bool((np.diff(steps) > 0).all()):  # the usual case: one row per step, in order
            return pd.Series(self._column("value")[rows], index=steps, name=name)
        sel = self.metrics.iloc[rows]
        ranks = sel["rank"]
        if not ranks.isna().any() and ranks.nunique() > 1:
            # Several ranks printed the series: the lowest rank's alone (rank 0's, as trainers report), not
            # a step-by-step mix of ranks whose values differ (one rank diverging alone).
            sel = sel[ranks == ranks.min()]
        sel = sel.sort_values(["step", "rank"], na_position="first").drop_duplicates("step")
        return pd.Series(sel["value"].to_numpy(), index=sel["step"].to_numpy(), name=name)

    def wall_times(self, metric: str, split: str = "train") -> pd.Series:
        """Wall-clock time (seconds) of each logged step of one series, where a source recorded it."""
        rows = self._rows(split, metric)
        walls = self._column("wall_time")[rows]
        known = ~np.isnan(walls)
        if not known.any():  # most logs record no clock: no frame to build
            return pd.Series(dtype="float64")
        steps = self._column("step")[rows][known]
        return pd.Series(walls[known], index=steps).groupby(level=0).min().astype("float64")

    def _event_index(self) -> dict[tuple[str, ...], np.ndarray]:
        """Row positions of the events of each kind, grouped once per run (events are not changed later)."""
        index = self.__dict__.get("_event_rows")
        if index is None:
            index = {} if self.events.empty else _group_rows(self.events["kind"])
            self.__dict__["_event_rows"] = index
        return cast(dict[tuple[str, ...], np.ndarray], index)

    def events_of(self, kinds: Sequence[str]) -> pd.DataFrame:
        """The events of the given kinds, in order."""
        index = self._event_index()
        rows = [index[(k,)] for k in kinds if (k,) in index]
        if not rows:
            return self.events.iloc[:0]
        return self.events.iloc[np.sort(np.concatenate(rows)) if len(rows) > 1 else rows[0]]

    def count_events(self, kinds: Sequence[str]) -> int:
        """How many events of the given kinds there are (no frame built)."""
        index = self._event_index()
        return sum(len(index[(k,)]) for k in kinds if (k,) in index)

    def has(self, metric: str, split: str = "train") -> bool:
        """True when at least one value of this series was read."""
        return len(self._rows(split, metric)) > 0

    def series_names(self) -> list[tuple[str, str]]:
        """(split, metric) of every series, in the order they first appear in the metrics (ordered once per
        run: the rules ask for it thousands of times)."""
        names = self.__dict__.get("_series_names")
        if names is None:
            index = self._series_index()
            pairs = sorted(index, key=lambda key: int(index[key][0]) if len(index[key]) else 0)
            names = self.__dict__["_series_names"] = [(str(s), str(m)) for s, m in pairs]
        return list(names)

    def splits(self) -> list[str]:
        """The splits present in the metrics, sorted."""
        return sorted({split for split, _ in self._series_index()})

    def cite(self, split: str, metric: str, step: int) -> str:
        """`file:line` of the observation of a metric at a step, for evidence."""
        rows = self._rows(split, metric)
        at = rows[self._column("step")[rows] == step]
        if not len(at):
            return ""
        source, line = self.metrics["source"].iloc[at[0]], self.metrics["line"].iloc[at[0]]
        return f"{source}:{line}" if pd.notna(line) else str(source)


_NO_ROWS = np.zeros(0, dtype=np.int64)


def combined_codes(*columns: pd.Series) -> np.ndarray:
    """One integer code per row for the combination of the columns' values (equal rows, equal codes; a
    missing value is a value of its own), for duplicate and group tests without pandas' multi-column
    machinery. A categorical column gives its codes as they are: no hashing of millions of rows. Codes of
    categorical columns whose combinations fit are 16- or 32-bit: a quarter of the memory on millions of rows."""
    counts = [len(c.cat.categories) if isinstance(c.dtype, pd.CategoricalDtype) else -1 for c in columns]
    combinations = math.prod(n + 1 for n in counts)
    if min(counts) >= 0 and combinations < 2**31:
        small = np.int16 if combinations < 2**15 else np.int32
        packed: np.ndarray = np.zeros(len(columns[0]), dtype=small)
        for column, count in zip(columns, counts, strict=True):
            packed *= count + 1
            packed += column.cat.codes.to_numpy().astype(small, copy=False)
            packed += 1  # a missing value's code -1 is 0
        return packed
    key: np.ndarray = np.zeros(len(columns[0]), dtype=np.int64)
    span = 1
    for column in columns:
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes, count = column.cat.codes.to_numpy().astype(np.int64), len(column.cat.categories)
        else:
            codes, uniques = pd.factorize(column, sort=False)  # a missing value is -1: code 0 below
            count = len(uniques)
        if span * (count + 1) >= 2**62:  # renumber the combinations so far: no overflow
            key, seen = pd.factorize(key, sort=False)
            span = len(seen)
        key = key * (count + 1) + codes + 1
        span *= count + 1
    return key


def rows_by_code(key: np.ndarray) -> Iterator[np.ndarray]:
    """Row positions of each distinct value of `key`, in ascending order of the value, rows in row order
    (a stable argsort split at each new value). Few distinct small codes, the usual case of a run's series,
    take one scan per code instead, each group made when it is asked for: no sorted copy of millions of rows."""
    if not len(key):
        return
    if key.dtype.itemsize <= 4 and int(key.min()) >= 0 and int(key.max()) < 2**16:
        counts = np.zeros(int(key.max()) + 1, dtype=np.int64)
        for start in range(0, len(key), 1 << 20):  # bincount widens its input to 64 bits: a chunk at a time
            counts += np.bincount(key[start : start + (1 << 20)], minlength=len(counts))
        present = np.flatnonzero(counts)
        if len(present) <= 64:
            for code in present:
                yield np.flatnonzero(key == code)
            return
    order = np.argsort(key.astype(np.uint16) if key.min() >= 0 and key.max() < 2**16 else key, kind="stable")
    yield from np.split(order, np.flatnonzero(np.diff(key[order])) + 1)


def _group_rows(*columns: pd.Series) -> dict[tuple[str, ...], np.ndarray]:
    """Row positions of each distinct combination of the columns' values, in row order (what
    `groupby(...).indices` gives, for the few columns of a run, without its per-call overhead)."""
    groups: dict[tuple[str, ...], np.ndarray] = {}
    values = [_values_at(column) for column in columns]
    for rows in rows_by_code(combined_codes(*columns)):
        parts: list[Any] = [value(int(rows[0])) for value in values]
        if not any(part is None or pd.isna(part) for part in parts):  # rows with a missing value belong to no group
            groups[tuple(str(part) for part in parts)] = rows
    return groups


def _values_at(column: pd.Series) -> Callable[[int], Any]:
    """The value at a row position, None where missing: a categorical's from its codes (no pandas lookup per row)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, categories = column.cat.codes.to_numpy(), column.cat.categories.to_numpy()
        return lambda row: categories[codes[row]] if codes[row] >= 0 else None
    array = column.to_numpy()
    return lambda row: array[row]


@dataclass
class Cause:
    """A candidate cause of a finding, ranked by the evidence for it."""

    id: str
    title: str
    score: float  # 0..1, higher is more likely given the evidence present
    fix: str
    confirm: str = ""  # how to tell this cause apart from the others
    evidence: list[str] = field(default_factory=list)  # why it was ranked where it is
    prior: float = 0.0  # the score before any evidence: score = prior + the weights of `evidence`
    weights: list[float] = field(default_factory=list)  # each evidence line's weight, in order
    ruled_out: str = ""  # what the run knows that contradicts the cause (score 0), e.g. "precision is fp32"

    def explain(self) -> str:
        """How the score was reached, for a reader: `prior 0.25, +0.40 the run trains in fp16`."""
        if self.ruled_out:
            return f"ruled out: {self.ruled_out}"
        parts = [f"prior {self.prior:.2f}"] + [
            f"{w:+.2f} {e}" for e, w in zip(self.evidence, self.weights, strict=False)
        ]
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "score": round(self.score, 3),
            "fix": self.fix,
            "confirm": self.confirm,
            "evidence": self.evidence,
            "prior": round(self.prior, 3),
            "weights": [round(w, 3) for w in self.weights],
        }
        if self.ruled_out:
            out["ruled_out"] = self.ruled_out
        return out


@dataclass
class Finding:
    """One detected failure mode with its onset, evidence and ranked causes."""

    rule_id: str
    failure_mode: str
    severity: str
    confidence: float
    onset_step: int | None
    title: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    causes: list[Cause] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    caused_by: str | None = None  # rule id of the earlier finding this one follows from (see chain_findings)
    # The log lines around the onset: {"at": "file:line", "line": n, "lines": [[n, text], ...]} (excerpts.py)
    excerpt: dict[str, Any] | None = None
    # Of a file holding several runs (meta['runs']), the 1-based number of the run it was found in when that is
    # not the run analysed: its onset counts on that run's own axis.
    run: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "failure_mode": self.failure_mode,
            "severity": self.severity,
            "confidence": round(self.confidence, 3),
            "onset_step": self.onset_step,
            "title": self.title,
            "message": self.message,
            "evidence": self.evidence,
            "causes": [c.to_dict() for c in self.causes],
            "fixes": self.fixes,
            "caused_by": self.caused_by,
            **({"excerpt": self.excerpt} if self.excerpt else {}),
            **({"run": self.run} if self.run is not None else {}),
        }


def order_findings(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then most confident, then earliest onset."""
    big = np.iinfo(np.int64).max
    return sorted(
        findings,
        key=lambda f: (-severity_rank(f.severity), -f.confidence, f.onset_step if f.onset_step is not None else big),
    )


# What a failure commonly brings later in the same run, in causal order (the earlier mode of a pair at the
# same step is the cause; a loss and its gradients exploding at once are named by the loss): exploding
# gradients make the loss diverge, a diverged model overflows fp16 and
# goes NaN, the Trainer's logging filter then shows the NaN loss as 0.0; memory that keeps growing ends in
# an out-of-memory crash.
_CAUSAL_ORDER = (
    "divergence",
    "grad_explosion",
    "loss_spike",
    "fp16_overflow",
    "grad_norm_nan",
    "loss_nan",
    "loss_zero_grad_nan",
    "eval_loss_nan",
    "not_learning",
    "memory_growth",
    "oom",
    "nccl_timeout",
    "dataloader_error",
    "crash",
)
_LEADS_TO: dict[str, set[str]] = {
    "grad_explosion": {
        "divergence",
        "loss_spike",
        "fp16_overflow",
        "grad_norm_nan",
        "loss_nan",
        "loss_zero_grad_nan",
        "eval_loss_nan",
        "not_learning",
    },
    "divergence": {
        "grad_explosion",
        "fp16_overflow",
        "grad_norm_nan",
        "loss_nan",
        "loss_zero_grad_nan",
        "eval_loss_nan",
        "not_learning",
    },
    "loss_spike": {"grad_norm_nan", "loss_nan", "loss_zero_grad_nan", "eval_loss_nan"},
    "fp16_overflow": {"grad_norm_nan", "loss_nan", "loss_zero_grad_nan", "eval_loss_nan"},
    "grad_norm_nan": {"loss_nan", "loss_zero_grad_nan", "eval_loss_nan"},
    "loss_nan": {"loss_zero_grad_nan", "eval_loss_nan"},
    "loss_zero_grad_nan": {"eval_loss_nan"},
    "memory_growth": {"oom", "crash"},
    "oom": {"crash"},
    "nccl_timeout": {"crash"},
    "dataloader_error": {"crash"},
}


_MIN_CAUSE_CONFIDENCE = 0.7


def chain_findings(findings: list[Finding]) -> list[Finding]:
    """Root causes first, each followed by what it led to; `caused_by` set on the consequences.

    A finding at warning or above follows from an earlier one (or one at the same step that comes first
    in the causal order) whose failure mode commonly leads to its own: a run whose loss diverged at step
    2, went NaN at step 9 and was logged as 0.0 from step 12 has one root (divergence) with two
    consequences, and the verdict is the root, not the late symptom. A cause needs a confidence of
    _MIN_CAUSE_CONFIDENCE or more. Roots are ordered as before (most
    severe of their chain, most confident, earliest); info findings come last."""
    serious = [f for f in findings if severity_rank(f.severity) >= severity_rank("warning")]
    rank = {mode: i for i, mode in enumerate(_CAUSAL_ORDER)}

    def before(g: Finding, f: Finding) -> bool:
        if (
            g.onset_step is None
            or f.onset_step is None
            or g.run != f.run  # two runs' steps are on two axes
            or f.failure_mode not in _LEADS_TO.get(g.failure_mode, ())
        ):
            return False
        return g.onset_step < f.onset_step or (
            g.onset_step == f.onset_step and rank.get(g.failure_mode, 99) < rank.get(f.failure_mode, 99)
        )

    for f in serious:  # a tentative detection (memory that may be growing) does not demote a certain one
        causes = [g for g in serious if g is not f and g.confidence >= _MIN_CAUSE_CONFIDENCE and before(g, f)]
        f.caused_by = (
            min(causes, key=lambda g: (g.onset_step, rank.get(g.failure_mode, 99))).rule_id if causes else None
        )
    by_id = {f.rule_id: f for f in serious}

    def root(f: Finding) -> Finding:
        seen = {f.rule_id}
        while f.caused_by and f.caused_by in by_id and f.caused_by not in seen:
            f = by_id[f.caused_by]
            seen.add(f.rule_id)
        return f

    chains: dict[str, list[Finding]] = {}
    for f in serious:
        chains.setdefault(root(f).rule_id, []).append(f)
    big = np.iinfo(np.int64).max

    def chain_key(members: list[Finding]) -> tuple[int, float, int]:
        head = root(members[0])
        worst = max(severity_rank(m.severity) for m in members)
        return -worst, -head.confidence, head.onset_step if head.onset_step is not None else big

    ordered: list[Finding] = []
    for members in sorted(chains.values(), key=chain_key):
        head = root(members[0])
        rest = sorted(
            (m for m in members if m is not head),
            key=lambda m: (m.onset_step if m.onset_step is not None else big, rank.get(m.failure_mode, 99)),
        )
        ordered += [head, *rest]
    return ordered + order_findings([f for f in findings if f not in serious])


@dataclass
class Report:
    """The analyzer's answer for one run: the run, its findings and the verdict."""

    run: Run
    findings: list[Finding]
    signals: dict[str, dict[str, Any]]
    checked: list[str] = field(default_factory=list)  # rule ids that ran
    unchecked: list[dict[str, str]] = field(default_factory=list)  # rule id + the signal it lacked
    replay: dict[str, Any] | None = None  # `analyze replay`: the replayed step's verdicts (analyzer.replay)

    @property
    def verdict(self) -> str:
        """`healthy`, or the failure mode of the most severe finding at warning or above."""
        serious = [f for f in self.findings if severity_rank(f.severity) >= severity_rank("warning")]
        return chain_findings(serious)[0].failure_mode if serious else "healthy"

    def worst_severity(self) -> str | None:
        """The highest severity among the findings, or None without findings."""
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=severity_rank)
