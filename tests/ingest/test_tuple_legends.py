"""Values printed first with their names as a legend after them, then the line's own value
(`Loss [31, 100](epoch, minibatch):  3.209`), in the exact output of a ResNet notebook's loop
(benchmarks/new_real_logs/2201): the legend names the counters, the words before them the value."""

from __future__ import annotations

from tests.ingest.console_series import series

LOG = """Accuracy on 10,000 test images:  23.549999999999997 %
Loss [31, 100](epoch, minibatch):  3.2093122029304504
Loss [31, 200](epoch, minibatch):  3.1696739053726195
Loss [31, 300](epoch, minibatch):  3.1839580225944517
Loss [32, 100](epoch, minibatch):  3.197716860771179
Loss [32, 200](epoch, minibatch):  3.1467290043830873
"""


def test_a_legend_after_the_values_names_them_and_the_loss_is_the_value_after() -> None:
    found = series(LOG)
    assert [v for _, v in found["train/loss"]] == [
        3.2093122029304504,
        3.1696739053726195,
        3.1839580225944517,
        3.197716860771179,
        3.1467290043830873,
    ]
    steps = [s for s, _ in found["train/loss"]]
    assert steps == sorted(steps) and len(set(steps)) == 5
