"""Events found by generic signatures, in frameworks no grammar entry names (short excerpts shaped
like the real logs they come from; the corpus test in test_generic_reading.py covers the real ones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.errors import NotARun
from analyzer.ingest import console
from analyzer.ingest.grammars import GrammarError, load_grammars


def events(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    log = tmp_path / "train.log"
    log.write_text(text)
    try:
        frames = console.parse(log, "train.log")
    except NotARun:
        return []
    return list(zip(frames.events["kind"], frames.events["message"], strict=True))


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (
            "2021-01-26 03:02:32 | INFO | fairseq.trainer | NOTE: overflow detected, setting loss scale to: 64.0",
            "overflow_skip",
        ),
        ("| WARNING: overflow detected, setting loss scale to: 0.0625", "overflow_skip"),
        ("segmentation fault (core dumped)", "signal"),
        ("User defined signal 2", "signal"),
        ("[ERROR] TBE Subprocess[task_distribute] raise error[], main process disappeared!", "signal"),
        (
            "concurrent.futures.process.BrokenProcessPool: A process in the process pool was terminated abruptly "
            "while the future was running or pending.",
            "signal",
        ),  # an LSF/SLURM job's SIGUSR2 at its time limit, as bash says it
        ("Aborted (core dumped)", "signal"),
        ("./train.sh: line 14: 20211 Terminated              python train.py --epochs 300", "signal"),
        ("Fatal Python error: Bus error", "signal"),
        ("tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM when allocating tensor", "oom"),
        ("RuntimeError: XPU out of memory. Tried to allocate 1.00 GiB", "oom"),
        (
            "slurmstepd-gpu-6000ada-3: error: Detected 1 oom_kill event in StepId=17306.batch. Some of the step tasks "
            "have been OOM Killed.",
            "oom",
        ),  # Slurm's cgroup out-of-memory handler
        ("Steps:   0%| | 1/3000 [00:08<6:44:13,  8.09s/it, loss=0.0584]OOM Detected, reducing batch/grad size", "oom"),
        ("WARNING CUDA OOM Error during batch execution, skipping batch", "oom"),
        ("ERROR: Out of GPU memory trying to allocate 256.000 KiB", "oom"),  # CUDA.jl's
        ("Caught OOM exception at step 5, retrying with a smaller batch", "oom"),
        (
            "[Reason]: CUDA error at allocator.cc:32  code=2( cudaErrorMemoryAllocation ) cudaMallocManaged(&ptr, n)",
            "oom",
        ),
        ("hipErrorOutOfMemory in hipMalloc", "oom"),  # ROCm's name for the same error
        (  # Torch7's TH allocator (new log 5465), the same words PyTorch's CPU allocator prints
            "/root/torch/install/bin/lua: $ Torch: not enough memory: you tried to allocate 0GB. Buy new RAM! at "
            "/root/torch/pkg/torch/lib/TH/THGeneral.c:210",
            "oom",
        ),
        ("/usr/local/bin/luajit: train.lua:131: attempt to index local 'model' (a nil value)", "exception"),  # Lua
        (  # burn's learner (new log 5643) and the standard library's own line
            "2024-12-17T21:59:42.132600Z ERROR burn_train::learner::application_logger: PANIC => panicked at "
            "/home/u/.cargo/registry/src/index.crates.io-6f17d22bba15001f/burn-tensor-0.15.0/src/tensor/api/base.rs:722:9:",
            "exception",
        ),
        ("thread 'main' panicked at 'called `Option::unwrap()` on a `None` value', src/train.rs:88:41", "exception"),
        (
            "[rank2]:[E816 00:34:01.133910474 ProcessGroupNCCL.cpp:629] [Rank 2] Watchdog caught collective operation "
            "timeout: WorkNCCL(SeqNum=137429, OpType=_ALLGATHER_BA",
            "nccl_timeout",
        ),
        (
            "RuntimeError: [/opt/gloo/transport/tcp/pair.cc:598] Connection closed by peer; gloo allreduce timed out",
            "nccl_timeout",
        ),
        (
            "[user] 2021-04-23 19:22:52,420 (trainer:581) WARNING: The grad norm is nan. Skipping updating the model.",
            "nonfinite_grad",
        ),
        ("2019-06-13 02:30:01,545 (e2e_asr:302) WARNING: loss (=nan) is not correct", "warning"),
        ("WARNING: Detected inf values in gradients, skipping this step", "nonfinite_grad"),
        ("gradient norm is inf at iteration 12", "nonfinite_grad"),
        # tf.clip_by_global_norm's check (keithito Tacotron, new log 5163): the gradients' global norm
        (
            "InvalidArgumentError (see above for traceback): Found Inf or NaN global norm. : Tensor had Inf values",
            "nonfinite_grad",
        ),
        ("Got non-finite value of losses -- bad!", "loss_nonfinite"),  # baselines' TRPO line search
        ("WARNING: NaN values in the loss at step 300, skipping", "loss_nonfinite"),
        (
            "INFO:tensorflow:Error reported to Coordinator: <class 'tensorflow.python.framework.errors_impl."
            "InvalidArgumentError'>, LossTensor is inf or nan. : Tensor had NaN values",
            "exception",
        ),
    ],
)
def test_generic_signature(tmp_path: Path, line: str, kind: str) -> None:
    assert kind in [k for k, _ in events(tmp_path, line + "\n")]


@pytest.mark.parametrize(
    "line",
    [
        "NCCL timeout set to 1800 seconds",
        "loss = nan",
        "max memory allocated 3.2 GB",
        "setting memory fraction to 0.9",
        "Terminated early at epoch 12: no improvement for 5 epochs",
        "Quit after 3 restarts",
        "The training process 70861 has exited, summary process will exit.",
        "Reserving 10% of memory for the buffer to avoid OOM. Lower max_memory if OOM errors are a concern.",
        "Hint: If you want to see a list of allocated tensors when OOM happens, add report_tensor_allocations",
        # TensorFlow's allocator retries smaller and training goes on (new log 3022)
        "2024-09-20 07:58:10.954077: W tensorflow/core/common_runtime/bfc_allocator.cc:275] Allocator (GPU_0_bfc) ran "
        "out of memory trying to allocate 3.37GiB with freed_by_count=0. The caller indicates that this is not a "
        "failure, but may mean that there could be performance gains if more memory were available.",
    ],
)
def test_not_an_event(tmp_path: Path, line: str) -> None:
    assert [k for k, _ in events(tmp_path, line + "\n") if k in ("nccl_timeout", "oom", "warning", "signal")] == []


def test_traceback_cut_off_is_still_an_exception(tmp_path: Path) -> None:
    got = events(tmp_path, "step 199 loss 10.85\n[rank0]: Traceback (most recent call last):\n")
    assert got == [("exception", "a Python traceback whose exception line is not in the log")]


def test_traceback_under_a_logger_prefix_names_the_user_frame(tmp_path: Path) -> None:
    prefix = "[2023-12-03 14:53:32,330] torch._dynamo.convert_frame: [WARNING] "
    text = "".join(
        prefix + line + "\n"
        for line in [
            "Traceback (most recent call last):",
            '  File "/home/u/painn/train.py", line 88, in <module>',
            "    model(batch)",
            '  File "/usr/lib/python3.10/site-packages/torch/_dynamo/eval_frame.py", line 489, in _fn',
            "    raise self._exception",
            "FileNotFoundError: [Errno 2] No such file or directory: 'ldconfig'",
        ]
    )
    ((kind, message),) = events(tmp_path, text)
    assert kind == "exception" and message.startswith("FileNotFoundError: [Errno 2]")
    assert "in your code: /home/u/painn/train.py:88 in <module>" in message


def test_a_month_day_before_a_clock_is_a_date_not_a_counter(tmp_path: Path) -> None:
    log = tmp_path / "train.log"
    log.write_text(
        "[07/25 13:14:45 d2.utils.events]: iter: 18  total_loss: 1.3\n"
        "[07/25 13:14:50 d2.utils.events]: iter: 19  total_loss: 1.2\n"
        "ERROR [07/25 13:14:56 d2.engine.train_loop]: Exception during training:\n"
        "FloatingPointError: Loss became infinite or NaN at iteration=20!\n"
        "[07/25 13:14:56 d2.engine.hooks]: Total training time: 0:00:01 (0:00:00 on hooks)\n"
    )
    frames = console.parse(log, "train.log")
    assert set(frames.metrics["step"]) == {18, 19}  # `iter`, never 7 (of 25) from the date
    assert set(frames.events["step"].dropna()) == {19}  # the logged banner and the exception line under it


@pytest.mark.parametrize(
    "line",
    [
        "  3/234 [....] - ETA: 33:37:24 - loss: 44.4110Batch 3: Invalid loss, terminating training",
        "NaN loss detected at iteration 120, stopping the run",
        "Non-finite loss encountered; aborting training",
    ],
)
def test_a_stop_on_a_non_finite_loss_is_an_event(tmp_path: Path, line: str) -> None:
    assert "loss_nan_stop" in [k for k, _ in events(tmp_path, line + "\n")]


def test_a_loss_that_is_only_named_near_a_stop_is_not_one(tmp_path: Path) -> None:
    assert [k for k, _ in events(tmp_path, "stopping early: val loss did not improve for 5 epochs\n")] == []


def test_a_watchdog_timeout_cut_mid_word_is_still_a_collective_timeout(tmp_path: Path) -> None:
    line = "[rank5]:[E602 11:17:52.185053341 ProcessGroupNCCL.cpp:632] [Rank 5] Watchdog caught collective operati"
    assert "nccl_timeout" in [k for k, _ in events(tmp_path, line + "\n")]


def test_an_exception_raised_while_the_main_process_loads_data_is_a_dataloader_error(tmp_path: Path) -> None:
    # No worker: the loader's own frames on the stack (num_workers=0 and a dataset that raises; or the
    # workers' start under the spawn method, new log 1799); a trainer's frame alone is an exception.
    loading = (
        "Epoch: 1 cost time: 12.3\n"
        "Traceback (most recent call last):\n"
        '  File "/home/me/run.py", line 120, in <module>\n'
        "    exp.train(setting)\n"
        '  File "/opt/conda/lib/python3.9/site-packages/torch/utils/data/dataloader.py", line 359, in __iter__\n'
        "    return self._get_iterator()\n"
        '  File "/opt/conda/lib/python3.9/site-packages/torch/utils/data/_utils/fetch.py", line 51, in fetch\n'
        "    data = [self.dataset[idx] for idx in possibly_batched_index]\n"
        '  File "/home/me/data_loader.py", line 88, in __getitem__\n'
        "    seq_x = self.data_x[s_begin:s_end]\n"
        "IndexError: index 8640 is out of bounds for axis 0 with size 8640\n"
    )
    got = events(tmp_path, loading)
    assert [k for k, _ in got] == ["dataloader_error"] and "raised while loading data: IndexError" in got[0][1]
    training = loading.replace("torch/utils/data/dataloader.py", "torch/nn/modules/module.py").replace(
        "torch/utils/data/_utils/fetch.py", "torch/nn/modules/linear.py"
    )
    assert [k for k, _ in events(tmp_path, training)] == ["exception"]


def test_an_exception_raised_in_a_dataloader_worker_is_a_dataloader_error(tmp_path: Path) -> None:
    # PyTorch re-raises a worker's exception with the worker's own traceback, through `_worker_loop`
    text = (
        "Epoch 3, iter 120, loss 0.412\n"
        "Original Traceback (most recent call last):\n"
        '  File "/usr/lib/python3/site-packages/torch/utils/data/_utils/worker.py", line 178, in _worker_loop\n'
        "    data = fetcher.fetch(index)\n"
        '  File "/home/me/data.py", line 69, in __getitem__\n'
        "    label = np.load(label_dir[idx])\n"
        "FileNotFoundError: [Errno 2] No such file or directory: 'labels/1064.npy'\n"
    )
    got = events(tmp_path, text)
    assert [k for k, _ in got] == ["dataloader_error"]
    assert "FileNotFoundError" in got[0][1] and "/home/me/data.py:69" in got[0][1]


def test_ctrl_c_as_the_terminal_echoes_it_is_a_stop_by_hand(tmp_path: Path) -> None:
    # StyleGAN2's TF loop (new log 1785): tick lines, then the `^C` the terminal echoed, no traceback
    tick = "tick {k}     kimg {kimg:<8.1f} lod 0.00  minibatch 32   time 34m 16s      sec/tick 652.4   gpumem 5.1\n"
    text = "".join(tick.format(k=k, kimg=6.1 * k) for k in range(4))
    assert [k for k, _ in events(tmp_path, text + "^C\n")] == ["interrupt"]
    assert [k for k, _ in events(tmp_path, text + "Press ^C to stop the server\n")] == []


def test_the_loss_scalers_configured_minimum_is_read_from_a_config_dump() -> None:
    # fairseq prints its whole cfg as a dict (new log 1769), DeepSpeed its JSON config; argparse `key=value`
    from analyzer.ingest.console import parse_text

    loop = "epoch 1 | loss 4.2 | lr 0.0001\nepoch 2 | loss 3.9 | lr 0.0001\n"
    dumps = (
        "[2021-03-19 19:22:50,895][fairseq_cli.train][INFO] - {'common': {'fp16': True, 'fp16_init_scale': 128, "
        "'fp16_scale_window': None, 'fp16_scale_tolerance': 0.0, 'min_loss_scale': 0.0001}}\n",
        '  "fp16": {"enabled": true, "loss_scale": 0, "initial_scale_power": 16, "min_loss_scale": 1}\n',
        "Namespace(fp16=True, fp16_init_scale=128, min_loss_scale=0.0001, threshold_loss_scale=None)\n",
    )
    got = [parse_text(dump + loop, "train.log").meta.get("loss_scaling") for dump in dumps]
    assert got == [{"min_loss_scale": 0.0001}, {"min_loss_scale": 1}, {"min_loss_scale": 0.0001}]


def test_a_nan_field_before_a_loss_field_named_with_a_slash_is_no_loss_report(tmp_path: Path) -> None:
    # InternEvo prints each data domain's loss, NaN for a domain with no tokens in the batch
    line = (
        "acc/code=0.0 tokens/en=120836 tokens/cn=0 loss_from_metric=11.6279 loss/en=11.6279 loss/cn=nan loss/code=nan"
    )
    assert "loss_nonfinite" not in [k for k, _ in events(tmp_path, line + "\n")]
    assert "loss_nonfinite" in [k for k, _ in events(tmp_path, "step 5: got nan loss, skipping the batch\n")]


def test_one_bare_nan_after_a_fit_is_no_loss_report(tmp_path: Path) -> None:
    # Keras' grid search printing a score after each fit (new log 5821): a bare `nan` once is some other value; a
    # loop's print of its loss recurs (`repeats: 2` in grammars.yaml)
    fit = "".join(
        f"60192/60192 [==============================] - 1s 19us/sample - loss: 0.04{e} - val_loss: 0.0490\n"
        for e in range(80, 90)
    )
    assert "loss_nonfinite" not in [k for k, _ in events(tmp_path, fit + "nan\n100\n0:00:26.616673\n")]
    assert [k for k, _ in events(tmp_path, "epoch 1\nnan\nepoch 2\nnan\n")].count("loss_nonfinite") == 2


def test_a_repeats_count_must_be_a_whole_number(tmp_path: Path) -> None:
    grammar = tmp_path / "g.yaml"
    grammar.write_text("events:\n  - {kind: warning, severity: info, pattern: 'x', repeats: 0}\n")
    with pytest.raises(GrammarError, match=r"g\.yaml.*repeats"):
        load_grammars(grammar)


def test_a_warning_that_something_may_cause_an_oom_is_no_oom(tmp_path: Path) -> None:
    # MindSpore's dataset warning, printed on a healthy run (new log 5794)
    line = (
        "[WARNING] ME(8379:140121727778944,MainProcess):2022-11-09-03:06:53.754.37 [mindspore/dataset/engine/"
        "datasets_user_defined.py:766] GeneratorDataset's num_parallel_workers: 4 is too large which may cause a lot "
        "of memory occupation (>85%) or out of memory(OOM) during multiprocessing. Therefore, it is recommended to "
        "reduce num_parallel_workers to 2 or smaller.\n"
    )
    assert "oom" not in [k for k, _ in events(tmp_path, line)]
    said = (
        "RuntimeError: CUDA out of memory. If reserved memory is >> allocated memory try setting max_split_size_mb "
        "to avoid fragmentation.\n"
    )
    assert "oom" in [k for k, _ in events(tmp_path, said)]  # advice after the error leaves it one


def test_an_exception_in_paddle_fluid_s_reader_thread_is_a_dataloader_error(tmp_path: Path) -> None:
    # Paddle 1.x keeps its DataLoader and PyReader in paddle/fluid/reader.py (Knover's reader thread, new log 4605)
    text = (
        "2020-10-26 14:57:16,385-WARNING: Your reader has raised an exception!\n"
        "Exception in thread Thread-1:\n"
        "Traceback (most recent call last):\n"
        '  File "/opt/conda/lib/python3.7/site-packages/paddle/fluid/reader.py", line 1125, in __thread_main__\n'
        "    for tensors in self._tensor_reader():\n"
        '  File "/home/aistudio/Knover/readers/nsp_reader.py", line 148, in _pad_batch_records\n'
        '    batch_label = np.array(batch_label).astype("int64").reshape([-1, 1])\n'
        "TypeError: int() argument must be a string, a bytes-like object or a number, not 'NoneType'\n"
    )
    assert [k for k, _ in events(tmp_path, text)] == ["dataloader_error"]
    elsewhere = text.replace("paddle/fluid/reader.py", "paddle/fluid/executor.py")
    assert [k for k, _ in events(tmp_path, elsewhere)] == ["exception"]
