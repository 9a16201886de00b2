"""Other language runtimes' uncaught errors end the run like a Python traceback: MATLAB, Julia, R."""

from __future__ import annotations

from tests.ingest.console_series import events_of

ROWS = "|       1 |           1 |       00:00:00 |       87.50% |         1.55 |      1.0000e-05 |\n"


def test_matlab_error_using() -> None:
    text = (
        ROWS
        + "\nError using builtin\nPadding exceeds array bounds.\n\n"
        + "Error in nnet.internal.cnnhost.convolveBackwardFilter2D (line 31)\n"
    )
    assert events_of(text, "exception") == [3]


def test_julia_error() -> None:
    text = "Epoch 1 loss 0.52\nERROR: LoadError: DimensionMismatch: arrays could not be broadcast to a common size\n"
    assert events_of(text, "exception") == [2]


def test_rscript_execution_halted() -> None:
    text = "epoch 1 loss 0.52\nError in py_call_impl(callable, dots$args, dots$keywords) :\nExecution halted\n"
    assert events_of(text, "exception") == [3]


def test_words_in_prose_are_no_error() -> None:
    text = "epoch 1 loss 0.52\nno error using the new optimizer\nexecution halted? no\n"
    assert events_of(text, "exception") == []


def test_argparse_usage_error() -> None:
    text = (
        "usage: train_bash.py [-h] --model_name_or_path MODEL_NAME_OR_PATH\n"
        "                     [--stage {sft,rm,ppo}]\n"
        "train_bash.py: error: argument --fp16: Truthy value expected: got s but expected one of yes/no\n"
    )
    assert events_of(text, "exception") == [3]
