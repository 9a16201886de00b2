"""Names joined by slashes beside values joined the same way (`Loss(Train/Valid): 5.27/5.32`) pair one to one, and
a loop that logs that training failed ended the run, whether or not the exception's type is printed."""

from __future__ import annotations

from tests.ingest.console_series import events_of, series

# A bilinear CNN from a network-slimming repository (new log 3340): one line of accuracies and one of losses a epoch
BCNN = "Epoch:{e}/149\nAccuracy(Train/Valid):{ta:.2f}/{va:.2f}% Loss(Train/Valid):{tl:.3f}/{vl:.3f}\n"


def test_slash_joined_names_take_the_slash_joined_values_in_order() -> None:
    rows = [(0, 0.65, 0.85, 5.274, 5.274), (1, 0.81, 0.88, 5.273, 5.322), (2, 1.14, 1.23, 5.218, 5.214)]
    found = series("".join(BCNN.format(e=e, ta=a, va=b, tl=c, vl=d) for e, a, b, c, d in rows))
    assert found["train/loss"] == [(0, 5.274), (1, 5.273), (2, 5.218)]
    assert found["eval/loss"] == [(0, 5.274), (1, 5.322), (2, 5.214)]
    assert [v for _, v in found["eval/accuracy"]] == [0.0085, 0.0088, 0.0123]  # the `%` after the pair is each one's


def test_a_slash_pair_named_after_its_split_and_a_metric_pair() -> None:
    text = "".join(f"Epoch [{e}/10] Train/Val Loss: {0.9 - 0.1 * e:.2f} / {1.0 - 0.05 * e:.2f}\n" for e in range(1, 5))
    found = series(text)
    assert [v for _, v in found["train/loss"]] == [0.8, 0.7, 0.6, 0.5]
    assert [v for _, v in found["eval/loss"]] == [0.95, 0.9, 0.85, 0.8]
    found = series("".join(f"step {i} loss/acc = {1.0 / i:.2f}/{0.5 + 0.1 * i:.2f}\n" for i in range(1, 5)))
    assert [v for _, v in found["train/loss"]] == [1.0, 0.5, 0.33, 0.25]
    assert [v for _, v in found["train/acc"]] == [0.6, 0.7, 0.8, 0.9]


def test_a_counter_and_its_total_are_no_pair() -> None:
    text = "".join(f"batch/total: {i}/100 loss: {1.0 / i:.3f}\n" for i in range(1, 6))
    assert [v for _, v in series(text)["train/loss"]] == [1.0, 0.5, 0.333, 0.25, 0.2]


# A small autoencoder trainer that catches its own exception (new log 3383)
TRAINER = "2025-11-06 14:39:0{s},9{s}3 - AnomalyTraining - {level} - {message}\n"


def test_a_loop_that_logs_that_training_failed_ended_on_an_error() -> None:
    text = "".join(
        TRAINER.format(s=s, level=level, message=message)
        for s, level, message in (
            (1, "INFO", "Epoch 10/50 completed"),
            (2, "INFO", "Training completed!"),
            (3, "ERROR", "Training failed: 'memory_allocated'"),
        )
    )
    assert events_of(text, "exception") == [3]


def test_training_that_failed_to_converge_is_no_crash() -> None:
    assert events_of("Warning: training failed to converge in 200 iterations\n", "exception") == []


def test_a_training_pipeline_that_logs_it_failed_ended_on_an_error() -> None:
    # a Hyena-GLT pipeline's last line after training (new log 3460): the analysis step raised, the pipeline ended
    text = (
        "2025-05-31 23:17:48,003 - trainer - INFO - Training completed!\n"
        "2025-05-31 23:17:48,023 - __main__ - ERROR - Training pipeline failed: Expected all tensors to be on the "
        "same device, but found at least two devices, cuda:0 and cpu!\n"
    )
    assert events_of(text, "exception") == [2]


def test_a_job_killed_by_its_scheduler_for_memory_ran_out_of_memory() -> None:
    # a Slurm job's last lines (new log 3551): the step exceeded the job's memory limit and was killed
    text = (
        "[INFO] epoch  60, train loss: 746435976.10, val loss: 700114008.00\n"
        "slurmstepd: error: Job 45337 exceeded memory limit (4216624 > 4194304), being killed\n"
        "slurmstepd: error: Exceeded job memory limit\n"
    )
    assert events_of(text, "oom", source="slurm-45337.out") == [2, 3]


def test_an_event_after_records_takes_the_last_records_step_not_a_loading_bars() -> None:
    # a data-loading bar at the top of a Slurm output (new log 3551), then epoch lines, then the kill: the bar's
    # step 0 was no record's, so the out-of-memory is placed after the last epoch printed before it
    text = (
        "  0%|          | 0/99 [00:00<?, ? Computational Sequence Entries/s]\n"
        + "".join(
            f"[INFO] epoch {e:3d}, train loss: {7.5 - 0.01 * e:.2f}, val loss: {7.0 + 0.01 * e:.2f}\n" for e in range(5)
        )
        + "slurmstepd: error: Exceeded job memory limit\n"
    )
    assert events_of(text, "oom", column="step", source="slurm.out") == [4]
