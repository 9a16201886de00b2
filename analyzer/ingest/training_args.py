"""`training_args.bin`: the pickled TrainingArguments, read by walking pickle opcodes, never unpickled.

Unpickling executes code named in the file, so this reader interprets only the opcodes that build
plain values (strings, numbers, lists, dicts). Every class or function the pickle names becomes an
inert placeholder; an enum such as `SchedulerType('cosine')` reads as its value `'cosine'`.
"""

from __future__ import annotations

import pickletools
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzer.errors import InputError
from analyzer.model import Frames

name = "training_args_bin"

_MAX_BYTES = 16 * 1024 * 1024
TRAINING_ARG_KEYS = (
    "learning_rate",
    "lr_scheduler_type",
    "warmup_steps",
    "warmup_ratio",
    "max_grad_norm",
    "per_device_train_batch_size",
    "per_device_eval_batch_size",
    "gradient_accumulation_steps",
    "max_steps",
    "num_train_epochs",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "bf16",
    "fp16",
    "tf32",
    "fp16_opt_level",
    "half_precision_backend",
    "optim",
    "weight_decay",
    "adam_beta1",
    "adam_beta2",
    "adam_epsilon",
    "seed",
    "deepspeed",
    "gradient_checkpointing",
    "logging_nan_inf_filter",
    "torch_compile",
    "eval_strategy",
    "evaluation_strategy",
    "save_strategy",
    "output_dir",
    "dataloader_num_workers",
    "label_smoothing_factor",
    "group_by_length",
    "local_rank",
    "world_size",
    "n_gpu",
    "use_cpu",
    "no_cuda",
    "bf16_full_eval",
    "fp16_full_eval",
    "run_name",
)


@dataclass
class _Global:
    name: str


@dataclass
class _Object:
    cls: Any
    args: Any = ()
    state: Any = None
    items: dict[Any, Any] = field(default_factory=dict)


class _Mark:
    pass


def sniff(path: Path, head: bytes) -> bool:
    """A torch.save zip archive whose entries are named after training_args."""
    # torch.save names the archive's folder after the file it first wrote: training_args/data.pkl
    return head.startswith(b"PK\x03\x04") and b"training_args" in head[:256]


def _collapse(obj: Any) -> Any:
    """Plain value of a placeholder: an enum-like call with one plain argument reads as that argument."""
    if (
        isinstance(obj, _Object)
        and isinstance(obj.args, tuple)
        and len(obj.args) == 1
        and isinstance(obj.args[0], (str, int, float, bool))
    ):
        return obj.args[0]
    return obj


_MAX_DEPTH = 32  # a TrainingArguments field is a number, a string or a short list or dict
_MAX_VALUES = 100_000  # values of one field, shared parts counted at each use


def _plain(value: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
    """A field as plain data; objects are unreadable, and so is a value nested past _MAX_DEPTH (a list
    that contains itself: the memo lets a pickle build one) or past _MAX_VALUES values (the memo also
    lets it share one list many times over, a bomb)."""
    budget = [_MAX_VALUES] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0 or depth > _MAX_DEPTH:
        return _UNREADABLE
    value = _collapse(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_plain(v, budget, depth + 1) for v in value]
        return items if all(not isinstance(v, _Unreadable) for v in items) else _UNREADABLE
    if isinstance(value, dict):
        return {str(k): _plain(v, budget, depth + 1) for k, v in value.items()}
    return _UNREADABLE


class _Unreadable:
    def __repr__(self) -> str:
        return "<object>"


_UNREADABLE = _Unreadable()


def read_pickle_values(data: bytes) -> Any:
    """The pickle's top object rebuilt from plain-value opcodes only; classes stay placeholders."""
    stack: list[Any] = []
    memo: dict[int, Any] = {}

    def pop_mark() -> list[Any]:
        items: list[Any] = []
        while stack and not isinstance(stack[-1], _Mark):
            items.append(stack.pop())
        if stack:
            stack.pop()
        return items[::-1]

    for op, arg, _pos in pickletools.genops(data):
        code = op.name
        if code in ("PROTO", "FRAME"):
            continue
        if code == "STOP":
            break
        if code == "MARK":
            stack.append(_Mark())
        elif code in ("EMPTY_DICT",):
            stack.append({})
        elif code in ("EMPTY_LIST",):
            stack.append([])
        elif code in ("EMPTY_TUPLE",):
            stack.append(())
        elif code in ("EMPTY_SET",):
            stack.append([])
        elif code in ("NONE",):
            stack.append(None)
        elif code in ("NEWTRUE", "NEWFALSE"):
            stack.append(code == "NEWTRUE")
        elif op.arg is not None and code not in (
            "PUT",
            "BINPUT",
            "LONG_BINPUT",
            "GET",
            "BINGET",
            "LONG_BINGET",
            "GLOBAL",
            "PERSID",
            "EXT1",
            "EXT2",
            "EXT4",
            "INST",
            "OBJ",
        ):
            stack.append(arg)  # ints, floats, strings, bytes
        elif code in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[int(arg or 0)] = stack[-1]
        elif code == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif code in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo.get(int(arg or 0), _UNREADABLE))
        elif code == "GLOBAL":
            stack.append(_Global(str(arg).replace(" ", ".")))
        elif code == "STACK_GLOBAL":
            attr, module = stack.pop(), stack.pop()
            stack.append(_Global(f"{module}.{attr}"))
        elif code in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(code[-1])
            items = stack[-n:]
            del stack[-n:]
            stack.append(tuple(items))
        elif code == "TUPLE":
            stack.append(tuple(pop_mark()))
        elif code == "LIST":
            stack.append(pop_mark())
        elif code == "DICT":
            items = pop_mark()
            stack.append({})
            for key, value in zip(items[::2], items[1::2], strict=False):
                _setitem(stack[-1], key, value)  # an unhashable key (a list) cannot stop the read
        elif code == "APPEND":
            value = stack.pop()
            if isinstance(stack[-1], list):
                stack[-1].append(value)
        elif code in ("APPENDS", "ADDITEMS"):
            items = pop_mark()
            if isinstance(stack[-1], list):
                stack[-1].extend(items)
        elif code == "SETITEM":
            value, key = stack.pop(), stack.pop()
            _setitem(stack[-1], key, value)
        elif code == "SETITEMS":
            items = pop_mark()
            for key, value in zip(items[::2], items[1::2], strict=False):
                _setitem(stack[-1], key, value)
        elif code == "REDUCE":
            args, func = stack.pop(), stack.pop()
            stack.append(_Object(func, args))
        elif code == "NEWOBJ":
            args, cls = stack.pop(), stack.pop()
            stack.append(_Object(cls, args))
        elif code == "NEWOBJ_EX":
            _kwargs, args, cls = stack.pop(), stack.pop(), stack.pop()
            stack.append(_Object(cls, args))
        elif code == "BUILD":
            state = stack.pop()
            if isinstance(stack[-1], _Object):
                stack[-1].state = state
        elif code == "BINPERSID":
            stack.pop()
            stack.append(_UNREADABLE)
        elif code == "POP":
            stack.pop()
        elif code == "POP_MARK":
            pop_mark()
        elif code == "DUP":
            stack.append(stack[-1])
        else:
            raise ValueError(f"unsupported pickle opcode {code}")
    return stack[-1] if stack else None


def _setitem(target: Any, key: Any, value: Any) -> None:
    # A key that is no plain value (a list, a placeholder) is named by its type: it may be unhashable, and
    # its repr may be huge (a shared list) or endless.
    key = key if key is None or isinstance(key, (str, int, float, bool)) else f"<{type(key).__name__}>"
    if isinstance(target, dict):
        target[key] = value
    elif isinstance(target, _Object):
        target.items[key] = value


def parse(path: Path, source: str) -> Frames:
    """The TrainingArguments fields that matter for diagnosis, into meta['training_args']."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith("data.pkl")]
            if not names:
                raise InputError(source, "zip archive without data.pkl: not a torch.save file")
            info = archive.getinfo(names[0])
            if info.file_size > _MAX_BYTES:
                raise InputError(source, f"data.pkl is {info.file_size} bytes; too large to be training args")
            data = archive.read(names[0])
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError, zlib.error) as exc:
        # A damaged archive fails in zipfile in many ways: a member name that is not UTF-8 (ValueError), an
        # unknown compression method (NotImplementedError), an 'encrypted' flag (RuntimeError), bad deflate data.
        raise InputError(source, f"not a readable torch.save archive: {exc or 'it ends early'}") from None
    try:
        top = read_pickle_values(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise InputError(source, f"pickle not read (it is never unpickled): {exc}") from None
    state = top.state if isinstance(top, _Object) else top
    if not isinstance(state, dict) or "learning_rate" not in state:
        raise InputError(source, "pickle does not hold TrainingArguments fields")
    values = {k: _plain(state[k]) for k in TRAINING_ARG_KEYS if k in state}
    values = {k: v for k, v in values.items() if not isinstance(v, _Unreadable)}
    cls = top.cls.name if isinstance(top, _Object) and isinstance(top.cls, _Global) else ""
    if isinstance(top, _Object) and isinstance(top.args, tuple) and top.args and isinstance(top.args[0], _Global):
        cls = top.args[0].name  # copyreg._reconstructor(cls, base, state)
    meta: dict[str, Any] = {"training_args": values}
    if cls:
        meta["training_args_class"] = cls
    return Frames(meta=meta)
