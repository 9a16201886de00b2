"""Wall-clock time from the timestamps that begin console lines.

Loggers print a time at the start of each line in many forms (`2023-05-15 23:13:52,112`, `[05/22 08:24:46`,
`25-12-16 16:29:16.457 :`, glog's `I1216 16:29:16.457`, `11/22/2026 11:25:18 -`, a bare `12:01:33`). Only the
time of day is read, with a count of the days that passed: a day passed when the date printed before the time
changes, or, with no date, when the time of day goes back. The date's own field order (day or month first) is
never needed, and a clock counted this way is relative (seconds since midnight of the log's first day): it
measures intervals, never when the run happened. A jump of several days between two lines counts as one day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# At the start of the line (after a bracket or a glog level letter), a date or none, then HH:MM:SS.
_STAMP = re.compile(
    r"^\s{0,2}[\[(]?"
    r"(?:[IWEF](?P<glog>\d{4})\s+"  # glog / absl: I1216 16:29:16.457
    r"|(?P<date>\d{1,4}[-/.]\d{1,2}(?:[-/.]\d{1,4})?)[ T_]"  # 2023-05-15, 25-12-16, 05/22, 11/22/2026
    r"|(?:[A-Z][a-z]{2},?\s+)?(?P<month>[A-Z][a-z]{2}\s+\d{1,2})(?:,?\s+\d{4})?\s+"  # Mon Dec  7, Dec 07 2026
    r")?"
    r"(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d):(?P<s>[0-5]\d(?:[.,]\d{1,9})?)(?![\d:])"
)
_DAY = 86400.0
_ROLLOVER = 6 * 3600.0  # a time of day this far back, with no date printed, is the next day's


@dataclass
class Clock:
    """The running day count of one console log and the last date and time of day seen."""

    day: int = 0
    date: str | None = None
    time_of_day: float | None = None

    def read(self, text: str) -> float | None:
        """Seconds since midnight of the first day for a line that starts with a timestamp, else None."""
        if not text or not (text[0].isdigit() or text[0] in " [(IWEFMTSAJNOD") or ":" not in text[:48]:
            return None
        found = _STAMP.match(text)
        if found is None:
            return None
        seconds = int(found["h"]) * 3600 + int(found["m"]) * 60 + float(found["s"].replace(",", "."))
        date = found["date"] or found["glog"] or found["month"]
        if date is not None:
            date = " ".join(date.split())
            if self.date is not None and date != self.date:
                self.day += 1
            self.date = date
        elif self.time_of_day is not None and seconds < self.time_of_day - _ROLLOVER:
            self.day += 1
        self.time_of_day = seconds
        return self.day * _DAY + seconds
