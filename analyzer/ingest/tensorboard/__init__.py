"""TensorBoard event files (`events.out.tfevents.*`): every scalar, the text summaries and hparams, no sampling.

The reader, stage by stage:
- framing: the file mapped, its TFRecord records found and their header checksums verified;
- checksums: CRC-32C of one record (google-crc32c), or of many short records of one length at once (numpy);
- fast: Events holding one `simple_value` (the commonest record) decoded with numpy;
- events: every other record through tensorboard's protobuf classes (tensor scalars, text, hparams,
  SessionLog);
- scan: one file read whole, through the stages above;
- policy: resumed runs across the files of one directory (SessionLog START, later file wins);
- run: one run per directory, one source per file; series names, frames and meta.

The format facts it relies on: docs/formats.md §3.
"""

from analyzer.ingest.tensorboard.checksums import _crc_rows as _crc_rows
from analyzer.ingest.tensorboard.checksums import _data_crc_ok as _data_crc_ok
from analyzer.ingest.tensorboard.checksums import masked_crc32c
from analyzer.ingest.tensorboard.framing import _View as _View
from analyzer.ingest.tensorboard.framing import sniff
from analyzer.ingest.tensorboard.run import _SPLIT_NAMES as _SPLIT_NAMES
from analyzer.ingest.tensorboard.run import _natural as _natural
from analyzer.ingest.tensorboard.run import name, parse_group, series_name

__all__ = ["masked_crc32c", "name", "parse_group", "series_name", "sniff"]
