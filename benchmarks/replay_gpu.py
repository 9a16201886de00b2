"""Replay on a GPU: a real fp16 overflow run and a ~100M-parameter run, trained, analysed and replayed.

Three phases, because the GPU machine has torch but not the analyzer's readers (wandb, tensorboard, scipy):

    python benchmarks/replay_gpu.py generate ROOT          # GPU: the two Trainer runs + their datasets
    python benchmarks/replay_gpu.py analyse ROOT           # here: `analyze` each ROOT/<case>/run (logs only)
    python benchmarks/replay_gpu.py replay ROOT --device cuda   # GPU: regenerate, replay, time, write JSON

`fp16_overflow` is the configuration of sample_logs/gpu_fp16_overflow_from_start (the 4.2M-parameter Llama
of sample_logs/generate_gpu.py, MLP gate/up weights 300x their init, fp16, lr 1e-3, batch 16, seed 42),
trained 12 steps with full checkpoints (optimizer, scaler) every 5. `llama100m` is a 106M-parameter Llama
(vocab 32000, hidden 768, 8 layers) trained 4 steps in bf16 with checkpoints every 2, batch 8 x 512 tokens.
Runs are seeded: the regenerated run's log is compared with the analysed one.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any

SEED = 42
CASES: dict[str, dict[str, Any]] = {
    "fp16_overflow": dict(
        model=dict(
            vocab_size=64,
            hidden_size=256,
            intermediate_size=1024,
            num_hidden_layers=4,
            num_attention_heads=4,
            num_key_value_heads=4,
            max_position_embeddings=1024,
        ),
        mlp_scale=300.0,
        rows=1024,
        seq=128,
        vocab=64,
        strides=(1, 2, 3, 5),
        args=dict(
            fp16=True,
            learning_rate=1e-3,
            per_device_train_batch_size=16,
            max_steps=12,
            save_steps=5,
            lr_scheduler_type="cosine",
            warmup_steps=10,
        ),
        step=None,
        overrides={},  # fp16 is read from the checkpoint (scaler.pt)
    ),
    "llama100m": dict(
        model=dict(
            vocab_size=32000,
            hidden_size=768,
            intermediate_size=2048,
            num_hidden_layers=8,
            num_attention_heads=12,
            num_key_value_heads=12,
            max_position_embeddings=1024,
        ),
        mlp_scale=1.0,
        rows=64,
        seq=512,
        vocab=32000,
        strides=(1, 3, 7, 11),
        args=dict(
            bf16=True,
            learning_rate=3e-4,
            per_device_train_batch_size=8,
            max_steps=4,
            save_steps=2,
            lr_scheduler_type="linear",
            warmup_steps=1,
        ),
        step=3,
        overrides={"precision": "bf16"},  # as `--precision bf16`: nothing the Trainer writes says bf16
    ),
}


def rows(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Arithmetic token progressions, as sample_logs/generate.py makes them."""
    import torch

    g = torch.Generator().manual_seed(SEED)
    n, seq, vocab = case["rows"], case["seq"], case["vocab"]
    starts = torch.randint(0, vocab, (n,), generator=g)
    strides = torch.tensor(case["strides"])[torch.randint(0, len(case["strides"]), (n,), generator=g)]
    ids = ((starts[:, None] + strides[:, None] * torch.arange(seq)) % vocab).tolist()
    return [{"input_ids": r, "attention_mask": [1] * seq, "labels": r} for r in ids]


def generate(root: Path) -> None:
    import torch
    import transformers

    for name, case in CASES.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        data = rows(case)
        (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
        transformers.set_seed(SEED)
        config = transformers.LlamaConfig(bos_token_id=0, eos_token_id=1, use_cache=False, **case["model"])
        model = transformers.LlamaForCausalLM(config)
        with torch.no_grad():
            for layer in model.model.layers:
                layer.mlp.gate_proj.weight.mul_(case["mlp_scale"])
                layer.mlp.up_proj.weight.mul_(case["mlp_scale"])
        args = transformers.TrainingArguments(
            output_dir=str(folder / "run"),
            logging_steps=1,
            save_strategy="steps",
            seed=SEED,
            data_seed=SEED,
            max_grad_norm=1.0,
            weight_decay=0.0,
            report_to="none",
            disable_tqdm=True,
            **case["args"],
        )
        started = time.perf_counter()
        trainer = transformers.Trainer(model=model, args=args, train_dataset=data)
        trainer.train()
        trainer.save_state()
        params = sum(p.numel() for p in model.parameters())
        print(f"{name}: {params / 1e6:.1f}M parameters trained in {time.perf_counter() - started:.1f} s", flush=True)


def analyse(root: Path) -> None:
    from analyzer.api import analyze

    for name in CASES:
        report = analyze(root / name / "run")
        print(name, [(f.rule_id, f.onset_step, [c.id for c in f.causes]) for f in report.findings])
        (root / name / "report.pkl").write_bytes(pickle.dumps(report))


def replay_all(root: Path, reports: Path, device: str, out: Path) -> None:
    import torch

    from analyzer.replay.runner import replay

    card = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
    for name, case in CASES.items():
        report = pickle.loads((reports / name / "report.pkl").read_bytes())  # our own file, made by `analyse`
        logged = json.loads((root / name / "run" / "trainer_state.json").read_text())["log_history"]
        started = time.perf_counter()
        result = replay(
            root / name / "run",
            report,
            step=case["step"],
            dataset=root / name / "train.jsonl",
            device=device,
            overrides=case["overrides"],
        )
        seconds = time.perf_counter() - started
        result["wall_seconds_including_load"] = round(seconds, 2)
        result["card"] = card
        again = [float(r["loss"]) for r in logged if "loss" in r]
        before = [float(v) for v in report.run.series("loss").to_numpy()]
        result["regenerated_log_matches_analysed"] = again == before
        (out / f"{name}.json").write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
        print(
            f"== {name} on {card}: replay of step {result['step']} in {seconds:.1f} s "
            f"(params {result['health']['parameters'] / 1e6:.1f}M)"
        )
        for o in result["ablations"]:
            print(
                f"   {o['name']:<14} {o['precision']} lr {o['lr']:.3g}: loss {o['loss']:.4g} "
                f"grad {o['grad_norm']:.4g} applied {o['applied']} symptom {o['symptom']}"
            )
        for v in result["verdicts"]:
            print(f"   {v['verdict']:<12} {v['cause']}: {v['evidence']}")
        print(f"   first non-finite: {result['first_nonfinite']}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=("generate", "analyse", "replay"))
    parser.add_argument("root", type=Path)
    parser.add_argument("--reports", type=Path, help="replay: where `analyse` left report.pkl (default: ROOT)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", type=Path, default=Path("."))
    a = parser.parse_args(argv)
    if a.phase == "generate":
        generate(a.root)
    elif a.phase == "analyse":
        analyse(a.root)
    else:
        replay_all(a.root, a.reports or a.root, a.device, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
