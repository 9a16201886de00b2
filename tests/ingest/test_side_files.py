"""Results files, JSON configs and training_args.bin (read without unpickling)."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.errors import InputError
from analyzer.ingest import configs, training_args
from tests.conftest import sample


def test_meta_from_a_real_trainer_output_dir():
    meta = analyze(sample("hf_healthy")).run.meta
    args = meta["training_args"]
    assert args["learning_rate"] == pytest.approx(5e-3)
    assert args["lr_scheduler_type"] == "cosine"  # an enum in the pickle, read as its value
    assert meta["precision"] == "fp32" and meta["learning_rate"] == args["learning_rate"]
    assert meta["model"]["model_type"] == "llama"
    assert meta["versions"]["transformers"] == "5.23.0"
    results = meta["results"]
    assert set(results) == {"all_results.json", "train_results.json", "eval_results.json"}
    assert results["eval_results.json"]["eval_loss"] > 0


def test_training_args_never_unpickled(monkeypatch: pytest.MonkeyPatch):
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("unpickling attempted")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    frames = training_args.parse(sample("hf_healthy") / "training_args.bin", "training_args.bin")
    assert frames.meta["training_args"]["max_grad_norm"] == 1.0


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, ("touch {marker}",))


def test_malicious_pickle_is_not_executed(tmp_path: Path):
    marker = tmp_path / "pwned"
    data = pickle.dumps(_Evil()).replace(b"{marker}", str(marker).encode())
    path = tmp_path / "training_args.bin"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("training_args/data.pkl", data)
    with pytest.raises(InputError):
        training_args.parse(path, "training_args.bin")
    assert not marker.exists()


def test_training_args_that_is_not_a_zip(tmp_path: Path):
    path = tmp_path / "training_args.bin"
    path.write_bytes(b"PK\x03\x04training_args garbage")
    with pytest.raises(InputError) as err:
        training_args.parse(path, "training_args.bin")
    assert "torch.save archive" in err.value.problem.message


# Key layouts as written by peft's LoraConfig.save_pretrained and a DeepSpeed ZeRO-2 fp16 config.
ADAPTER = {
    "base_model_name_or_path": "Qwen/Qwen2-0.5B",
    "bias": "none",
    "lora_alpha": 16,
    "lora_dropout": 0.05,
    "peft_type": "LORA",
    "r": 8,
    "target_modules": ["q_proj", "v_proj"],
    "task_type": "CAUSAL_LM",
}
DEEPSPEED = {
    "fp16": {
        "enabled": True,
        "loss_scale": 0,
        "loss_scale_window": 1000,
        "initial_scale_power": 16,
        "hysteresis": 2,
        "min_loss_scale": 1,
    },
    "bf16": {"enabled": False},
    "zero_optimization": {"stage": 2, "overlap_comm": True},
    "gradient_clipping": 1.0,
    "train_micro_batch_size_per_gpu": 4,
    "gradient_accumulation_steps": 8,
}


def test_peft_and_deepspeed_configs_set_precision_and_settings(tmp_path: Path, copy_sample):
    run = copy_sample("hf_labels_all_masked")
    (run / "adapter_config.json").write_text(json.dumps(ADAPTER, indent=2))
    (run / "ds_z2.json").write_text(json.dumps(DEEPSPEED, indent=2))
    (run / "training_args.bin").unlink()
    for ckpt in run.glob("checkpoint-*"):
        (ckpt / "training_args.bin").unlink(missing_ok=True)
    meta = analyze(run).run.meta
    assert meta["peft"]["r"] == 8 and meta["peft_type"] == "LORA"
    assert meta["deepspeed"]["zero_stage"] == 2 and meta["deepspeed_stage"] == 2
    assert meta["precision"] == "fp16" and meta["precision_source"] == "deepspeed.fp16.enabled"
    assert meta["max_grad_norm"] == 1.0


def test_unknown_json_object_is_not_a_config(tmp_path: Path):
    path = tmp_path / "x.json"
    path.write_text('{"foo": 1, "bar": [1, 2]}')
    with pytest.raises(InputError):
        configs.parse(path, "x.json")
