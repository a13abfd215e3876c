#!/usr/bin/env python3
"""A peer for `mos train`: the same training run replayed in PyTorch, step for step.

At each thread count, `mos train --trace DIR` trains the profile's model and
writes what a replay needs: the weights it starts from (initial.safetensors),
every step's batch (batches.safetensors), and each step's loss, learning rate
and time (steps.csv). PyTorch then builds the same model from those weights
(RMSNorm, rotary pairs (2i, 2i+1), causal attention, SwiGLU, untied head),
trains it on the same batches with the same recipe (mean next-byte
cross-entropy; the global gradient norm clipped; AdamW with mos's β, ε and
weight decay on matrices and the embedding, at mos's learning rate of each
step: the recipe rides in the initial weights' metadata), eagerly and under
torch.compile, each in its own process with the thread variables set.

It prints the largest difference between PyTorch's loss and mos's over all
steps, and tokens/s of the three over the steps after the warm-up (the
first steps compile under torch.compile). mos's time is its steps' own time
from steps.csv, without the validation checks `mos train` also runs.

Optional: without torch it says so and exits 0. Not part of `make test`.

    python3 scripts/torch-train.py [--corpus PATH] [--steps 120] [--threads 1,2] [--show 10]
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time


def read_safetensors(torch, path):
    """Tensors and metadata of a safetensors file (read by hand: the format is a
    length, a JSON header and raw little-endian bytes)."""
    data = open(path, "rb").read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    types = {"F32": torch.float32, "U8": torch.uint8}
    tensors = {}
    for name, info in header.items():
        if name != "__metadata__":
            start, end = (8 + n + offset for offset in info["data_offsets"])
            tensors[name] = torch.frombuffer(bytearray(data[start:end]), dtype=types[info["dtype"]]).reshape(info["shape"])
    return tensors, header.get("__metadata__", {})


def model(torch, config, weights):
    """mos's model (Sources/Transformer/Model.swift), its parameters named as in its checkpoints."""
    nn, F = torch.nn, torch.nn.functional
    dim, heads, eps = config["dim"], config["heads"], config["normEpsilon"]
    hd = dim // heads
    # The angles in double, then rounded, as mos's Rotary does.
    inverse = config["ropeBase"] ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    angles = torch.arange(config["context"], dtype=torch.float64)[:, None] * inverse[None, :]

    def rotate(x, cos, sin):  # x [B, H, T, hd]
        a, b = x[..., 0::2], x[..., 1::2]
        return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention_norm, self.mlp_norm = nn.RMSNorm(dim, eps=eps), nn.RMSNorm(dim, eps=eps)
            self.q, self.k, self.v, self.o = (nn.Linear(dim, dim, bias=False) for _ in range(4))
            self.gate = nn.Linear(dim, config["ffnHidden"], bias=False)
            self.up = nn.Linear(dim, config["ffnHidden"], bias=False)
            self.down = nn.Linear(config["ffnHidden"], dim, bias=False)

        def forward(self, x, cos, sin):
            B, T, _ = x.shape
            h = self.attention_norm(x)
            q, k, v = (layer(h).view(B, T, heads, hd).transpose(1, 2) for layer in (self.q, self.k, self.v))
            mix = F.scaled_dot_product_attention(rotate(q, cos, sin), rotate(k, cos, sin), v, is_causal=True)
            x = x + self.o(mix.transpose(1, 2).reshape(B, T, dim))
            h2 = self.mlp_norm(x)
            return x + self.down(F.silu(self.gate(h2)) * self.up(h2))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Parameter(torch.empty(config["vocabulary"], dim))
            self.layers = nn.ModuleList(Block() for _ in range(config["layers"]))
            self.final_norm = nn.RMSNorm(dim, eps=eps)
            self.head = nn.Linear(dim, config["vocabulary"], bias=False)
            self.register_buffer("cos", angles.cos().float(), persistent=False)
            self.register_buffer("sin", angles.sin().float(), persistent=False)

        def forward(self, tokens, targets):
            T = tokens.shape[1]
            x = self.embedding[tokens]
            for block in self.layers:
                x = block(x, self.cos[:T], self.sin[:T])
            logits = self.head(self.final_norm(x))
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    net = Model()
    # mos names a norm's gain after the norm ("final_norm"), PyTorch "final_norm.weight".
    named = {n.removesuffix(".weight") if n.endswith("norm.weight") else n: p for n, p in net.named_parameters()}
    assert named.keys() == weights.keys(), f"parameters differ: {sorted(named.keys() ^ weights.keys())}"
    with torch.no_grad():
        for name, p in named.items():
            p.copy_(weights[name])
    return net


def replay(torch, trace, compiled, warmup):
    """Trains from the trace's weights on its batches; returns each step's loss
    and the seconds of the steps after `warmup`."""
    weights, metadata = read_safetensors(torch, os.path.join(trace, "initial.safetensors"))
    batches, _ = read_safetensors(torch, os.path.join(trace, "batches.safetensors"))
    with open(os.path.join(trace, "steps.csv")) as f:
        recorded = list(csv.DictReader(f))
    config, recipe = json.loads(metadata["config"]), json.loads(metadata["recipe"])
    clip = recipe["gradientClip"]
    net = model(torch, config, weights)
    matrices = [p for p in net.parameters() if p.dim() == 2]
    others = [p for p in net.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": matrices, "weight_decay": recipe["weightDecay"]},
                                   {"params": others, "weight_decay": 0.0}],
                                  lr=0.0, betas=(recipe["beta1"], recipe["beta2"]), eps=recipe["epsilon"])
    loss_of = torch.compile(net) if compiled else net
    inputs, targets = batches["inputs"].long(), batches["targets"].long()
    losses, start = [], None
    for step, row in enumerate(recorded):
        if step == warmup:
            start = time.perf_counter()
        loss = loss_of(inputs[step], targets[step])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grads = [p.grad for p in net.parameters()]
        norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
        if clip > 0 and norm > clip:   # scaled by clip / norm, as mos's AdamW does
            torch._foreach_mul_(grads, clip / norm)
        for group in optimizer.param_groups:
            group["lr"] = float(row["learning_rate"])
        optimizer.step()
        losses.append(float(loss.detach()))
    seconds = time.perf_counter() - start if start is not None else math.nan
    return losses, seconds


def last_line(text):
    return (text.strip().splitlines() or ["(no message)"])[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mos", default=".build/release/mos", help="the mos binary (default: %(default)s)")
    parser.add_argument("--corpus", default="synthetic", help="mos train's --corpus (default: %(default)s)")
    parser.add_argument("--profile", default="quick", help="mos train's --profile (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=120, help="training steps (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed first steps (default: %(default)s)")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default: %(default)s)")
    parser.add_argument("--show", type=int, default=10, help="print the losses every this many steps (default: %(default)s; 0: none)")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)  # THREADS eager|compiled TRACE: one replay
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print(f"torch-train: skipped, {sys.executable} has no torch")
        return 0
    if tuple(int(part) for part in torch.__version__.split(".")[:2]) < (2, 4):
        print(f"torch-train: skipped, it needs PyTorch 2.4 or later (nn.RMSNorm); {sys.executable} has {torch.__version__}")
        return 0
    if args.measure:
        threads, mode, trace = int(args.measure[0]), args.measure[1], args.measure[2]
        torch.set_num_threads(threads)
        losses, seconds = replay(torch, trace, mode == "compiled", args.warmup)
        print(json.dumps({"losses": losses, "seconds": seconds}))
        return 0
    if args.steps <= args.warmup:
        parser.error("--steps must be more than --warmup")
    if not os.access(args.mos, os.X_OK):
        parser.error(f"no mos binary at {args.mos} (build it with `swift build -c release`, or give --mos)")
    rows, shown = [], None
    with tempfile.TemporaryDirectory(prefix="torch-train.") as work:
        for n in [int(t) for t in args.threads.split(",")]:
            trace = os.path.join(work, f"threads-{n}")
            run = subprocess.run([args.mos, "train", "--corpus", args.corpus, "--profile", args.profile,
                                  "--steps", str(args.steps), "--threads", str(n),
                                  "--out", os.path.join(trace, "final.safetensors"), "--trace", trace],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                print(f"torch-train: mos train failed: {last_line(run.stderr)}", file=sys.stderr)
                return 1
            with open(os.path.join(trace, "steps.csv")) as f:
                recorded = list(csv.DictReader(f))
            mine = [float(r["loss"]) for r in recorded]
            timed = len(recorded) - args.warmup   # a text's run may stop early, at its best check
            if timed <= 0:
                print(f"torch-train: mos train stopped after {len(recorded)} steps, within the warm-up", file=sys.stderr)
                return 1
            batches, _ = read_safetensors(torch, os.path.join(trace, "batches.safetensors"))
            tokens = timed * batches["inputs"].shape[1] * batches["inputs"].shape[2]
            row = {"threads": n, "mos": tokens / sum(float(r["step_seconds"]) for r in recorded[args.warmup:])}
            limits = {name: str(n) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
            for mode in ("eager", "compiled"):
                run = subprocess.run([sys.executable, __file__, "--measure", str(n), mode, trace,
                                      "--warmup", str(args.warmup)],
                                     capture_output=True, text=True, env={**os.environ, **limits})
                if run.returncode != 0:
                    print(f"torch-train: {mode} at {n} thread(s) failed: {last_line(run.stderr)}", file=sys.stderr)
                    row[mode], row[mode + " Δ"] = math.nan, math.nan
                    continue
                peer = json.loads(run.stdout.splitlines()[-1])
                row[mode] = tokens / peer["seconds"]
                row[mode + " Δ"] = max(abs(a - b) for a, b in zip(mine, peer["losses"]))
                if mode == "eager" and shown is None:
                    shown = (n, mine, peer["losses"])
            rows.append(row)
    print(f"mos train --corpus {args.corpus} --profile {args.profile} --steps {args.steps}, replayed in PyTorch "
          f"{torch.__version__}")
    if shown and args.show > 0:
        n, mine, theirs = shown
        print(f"\nlosses at {n} thread(s), nats\n{'step':>6}{'mos':>12}{'PyTorch':>12}{'difference':>12}")
        for s in sorted({*range(args.show, len(mine) + 1, args.show), 1, len(mine)}):
            print(f"{s:>6}{mine[s - 1]:>12.6f}{theirs[s - 1]:>12.6f}{theirs[s - 1] - mine[s - 1]:>+12.2e}")
    print(f"\ntokens/s over the steps after the first {args.warmup}; largest |PyTorch loss − mos loss| over all steps")
    print(f"{'threads':>7}{'mos':>10}{'eager':>10}{'compiled':>10}{'mos/eager':>11}{'mos/compiled':>14}"
          f"{'Δ eager':>10}{'Δ compiled':>12}")
    for r in rows:
        print(f"{r['threads']:>7}{r['mos']:>10.0f}{r['eager']:>10.0f}{r['compiled']:>10.0f}"
              f"{r['mos'] / r['eager']:>10.2f}×{r['mos'] / r['compiled']:>13.2f}×"
              f"{r['eager Δ']:>10.1e}{r['compiled Δ']:>12.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
