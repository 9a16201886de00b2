"""Crashes a paste shows only in part (new logs 477 and 484): a traceback whose `Traceback (most recent
call last):` header was cut (`...`, then its last frames, unindented by the paste), and a training loop's
logged `Exception during training:` banner whose traceback the paste left out."""

from __future__ import annotations

from analyzer.ingest.console import parse_text


def exceptions(text: str) -> list[str]:
    events = parse_text(text, "train.log").events
    return [str(m) for m in events[events["kind"] == "exception"]["message"]] if len(events) else []


def test_a_traceback_cut_above_its_frames_is_still_an_exception() -> None:
    text = (
        "iter 3197: loss 2.1, time: 134.94ms\n"
        "...\n"
        'File ".../lit-llama/generate.py", line 74, in generate\n'
        "    idx_next = torch.multinomial(probs, num_samples=1).to(dtype=dtype)\n"
        "RuntimeError: probability tensor contains either `inf`, `nan` or element < 0\n"
    )
    (said,) = exceptions(text)
    assert said.startswith("RuntimeError: probability tensor contains")
    assert "generate.py:74 in generate" in said


def test_frames_a_paste_unindented_stay_frames_of_their_traceback() -> None:
    text = (
        "Traceback (most recent call last):\n"
        'File "/home/u/train.py", line 12, in <module>\n'
        "main()\n"
        'File "/usr/lib/python3.10/site-packages/torch/nn/modules/module.py", line 1501, in _call_impl\n'
        "return forward_call(*args, **kwargs)\n"
        "ValueError: Expected input batch_size (4) to match target batch_size (8).\n"
    )
    (said,) = exceptions(text)
    assert said.startswith("ValueError: Expected input batch_size")
    assert "in your code: /home/u/train.py:12 in <module>" in said


def test_a_logged_exception_banner_is_a_crash_even_without_its_traceback() -> None:
    line = "[04/27 13:03:{s} d2.utils.events]:  eta: 4:00:48  iter: {i}  total_loss: {v}  lr: 0.01\n"
    text = "".join(line.format(s=30 + i, i=i * 20 + 319, v=v) for i, v in enumerate((2.127, 2.429, 1.859)))
    text += "ERROR [04/27 13:03:54 d2.engine.train_loop]: Exception during training:\n"
    (said,) = exceptions(text)
    assert said == "the training loop logged an exception"


def test_prose_about_files_and_exceptions_is_no_crash() -> None:
    text = "File sizes: 120 MB\nFile name: data.csv\nNo exceptions raised; training finished.\nloss: 0.5\n"
    assert exceptions(text) == []


def test_frames_with_no_header_and_no_exception_line_are_a_stack_dump_not_a_crash() -> None:
    text = (
        "step 10 loss 2.1\n"
        '  File "/home/u/train.py", line 88, in <module>\n'
        "    main()\n"
        '  File "/home/u/train.py", line 70, in main\n'
        "    traceback.print_stack()\n"
        "step 11 loss 2.0\n"
    )
    assert exceptions(text) == []


def kinds(text: str) -> list[str]:
    events = parse_text(text, "train.log").events
    return [str(k) for k in events["kind"]] if len(events) else []


def test_a_kill_as_the_shell_reports_it_is_a_signal() -> None:
    # bash's report of a job killed by SIGKILL, glued to a progress bar (new log 499)
    bar = "Epoch 15 (validation) acc=1.000:   2%|#4      | 20/1094 [00:41<11:04,  1.62it/s]"
    text = f"Epoch 15 loss=0.046158\n{bar}/home/u/bin/jac-crun: line 6:  3305 Killed                  jac-run $@\n"
    assert kinds(text) == ["signal"]
    assert kinds("loss=0.5\n[1]+  Killed                  python train.py\n") == ["signal"]
    assert kinds("Killed 3 stale workers before the epoch; loss=0.5\n") == []


def test_a_kill_notice_a_paste_decorated_or_a_locale_translated_is_a_signal() -> None:
    # Markdown emphasis or code ticks around the shell's `Killed` (new log 1064), quotes and a full stop,
    # and bash's notice in a Chinese locale (new log 955): the run's only failure line in each
    for notice in ("**Killed**", "`Killed`", '"Killed".', "已杀死"):
        assert kinds(f"iter 144: total-loss 0.5882\n{notice}\n") == ["signal"], notice
    assert kinds("iter 144: total-loss 0.5882\nThe worker was not Killed here\n") == []


def test_a_sigkill_exit_code_is_a_signal_not_an_oom() -> None:
    # exit code -9 says SIGKILL, not who sent it: the OOM killer is a likely cause, not a reading
    text = "loss=0.5\nERROR:torch.distributed.elastic.multiprocessing.api:failed (exitcode: -9) local_rank: 0\n"
    assert kinds(text) == ["signal"]


def test_a_traceback_cut_while_waiting_on_dataloader_workers_is_a_worker_crash() -> None:
    # kraken's `ketos train` (new log 1071): the paste ends in the frames, the main process waiting on its
    # workers' queue; with its exception line the same traceback says what it says (here Ctrl-C)
    frames = (
        "stage 1/inf  [----------]  16/16638  09:22:04\n"
        "Traceback (most recent call last):\n"
        '  File "/env/lib/python3.8/site-packages/torch/utils/data/dataloader.py", line 779, in _try_get_data\n'
        "    data = self._data_queue.get(timeout=timeout)\n"
        '  File "/usr/lib/python3.8/multiprocessing/queues.py", line 107, in get\n'
        "    if not self._poll(timeout):\n"
    )
    assert kinds(frames) == ["dataloader_error"]
    assert kinds(frames + "KeyboardInterrupt\n") == ["interrupt"]


def test_tensorflow_sessions_error_summary_is_an_exception() -> None:
    # pix2pix-tensorflow on TF 1.15 (new log 1103): no Python traceback pasted, only the session's summary
    text = (
        "progress  epoch 3  step 357  image/sec 7.1  remaining 1234m\n"
        "  (1) Invalid argument: Nan in summary histogram for: generator/encoder_5/conv2d/kernel/values\n"
        "0 successful operations.\n"
        "0 derived errors ignored.\n"
    )
    assert "exception" in kinds(text)
