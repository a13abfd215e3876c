#!/usr/bin/env python3
"""A peer for `mos bench train`: the quick profile's training step in PyTorch, in the same run.

The same model as mos's quick profile (byte vocabulary, width 64, 4 blocks of
4 heads, SwiGLU of 192, context 128, untied head: 246,336 parameters; GPT-2's
initialization), batches of 32 random windows, next-token cross-entropy,
AdamW (learning rate 3e-3, weight decay 0.1 on matrices, gradient clipping at
1) — timed eager and under torch.compile at each thread count, each in its own
process with the thread variables set. Then `mos bench train` runs at the same
thread counts and the script prints tokens/s and mos's over PyTorch's.

What it does not do: match mos's losses step for step. Its weights and batches
come from PyTorch's generator, not mos's, so the comparison is of speed on the
same shapes and arithmetic, not of a shared trajectory.

Optional: without torch it says so and exits 0. Not part of `make test`.

    python3 scripts/torch-train.py [--mos .build/release/mos] [--threads 1,2] [--steps 20]
"""
import argparse
import math
import os
import subprocess
import sys
import time

DIM, LAYERS, HEADS, FFN, CONTEXT, VOCABULARY, BATCH = 64, 4, 4, 192, 128, 256, 32


def model(torch):
    nn, F = torch.nn, torch.nn.functional
    hd = DIM // HEADS
    inverse = 10000.0 ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    angles = torch.arange(CONTEXT, dtype=torch.float32)[:, None] * inverse[None, :]

    def rotate(x, cos, sin):  # x [B, H, T, hd], pairs (2i, 2i+1) as in mos
        a, b = x[..., 0::2], x[..., 1::2]
        return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.n1, self.n2 = nn.RMSNorm(DIM, eps=1e-5), nn.RMSNorm(DIM, eps=1e-5)
            self.q, self.k, self.v, self.o = (nn.Linear(DIM, DIM, bias=False) for _ in range(4))
            self.gate, self.up = nn.Linear(DIM, FFN, bias=False), nn.Linear(DIM, FFN, bias=False)
            self.down = nn.Linear(FFN, DIM, bias=False)

        def forward(self, x, cos, sin):
            B, T, _ = x.shape
            h = self.n1(x)
            q, k, v = (layer(h).view(B, T, HEADS, hd).transpose(1, 2) for layer in (self.q, self.k, self.v))
            mix = F.scaled_dot_product_attention(rotate(q, cos, sin), rotate(k, cos, sin), v, is_causal=True)
            x = x + self.o(mix.transpose(1, 2).reshape(B, T, DIM))
            h2 = self.n2(x)
            return x + self.down(F.silu(self.gate(h2)) * self.up(h2))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCABULARY, DIM)
            self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
            self.norm = nn.RMSNorm(DIM, eps=1e-5)
            self.head = nn.Linear(DIM, VOCABULARY, bias=False)
            self.register_buffer("cos", angles.cos(), persistent=False)
            self.register_buffer("sin", angles.sin(), persistent=False)
            for name, p in self.named_parameters():
                if p.dim() == 2:
                    residual = name.endswith("o.weight") or name.endswith("down.weight")
                    nn.init.normal_(p, std=0.02 / (math.sqrt(2 * LAYERS) if residual else 1))

        def forward(self, tokens, targets):
            x = self.embedding(tokens)
            for block in self.blocks:
                x = block(x, self.cos, self.sin)
            logits = self.head(self.norm(x))
            return F.cross_entropy(logits.reshape(-1, VOCABULARY), targets.reshape(-1))

    return Model()


def tokens_per_second(torch, compiled, steps, warmup):
    torch.manual_seed(1)
    net = model(torch)
    assert sum(p.numel() for p in net.parameters()) == 246_336, "not the quick profile's model"
    matrices = [p for p in net.parameters() if p.dim() == 2]
    others = [p for p in net.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": matrices, "weight_decay": 0.1}, {"params": others, "weight_decay": 0.0}],
                                  lr=3e-3, betas=(0.9, 0.95))
    corpus = torch.randint(0, VOCABULARY, (1 << 20,), dtype=torch.long)
    loss_of = torch.compile(net) if compiled else net

    def step():
        starts = torch.randint(0, corpus.numel() - CONTEXT - 1, (BATCH,))
        windows = torch.stack([corpus[s:s + CONTEXT + 1] for s in starts.tolist()])
        loss = loss_of(windows[:, :-1], windows[:, 1:])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()

    for _ in range(warmup):   # with torch.compile, the first steps compile
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * BATCH * CONTEXT / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mos", default=".build/release/mos", help="the mos binary (default: %(default)s)")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps, after warm-up (default: %(default)s)")
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)  # THREADS eager|compiled: one measurement
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print(f"torch-train: skipped, {sys.executable} has no torch")
        return 0
    if args.measure:
        threads, mode = int(args.measure[0]), args.measure[1]
        torch.set_num_threads(threads)
        print(tokens_per_second(torch, mode == "compiled", args.steps, warmup=5 if mode == "compiled" else 2))
        return 0
    rows = []
    for n in [int(t) for t in args.threads.split(",")]:
        limits = {name: str(n) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        peer = {}
        for mode in ("eager", "compiled"):
            run = subprocess.run([sys.executable, __file__, "--measure", str(n), mode, "--steps", str(args.steps)],
                                 capture_output=True, text=True, env={**os.environ, **limits})
            peer[mode] = float(run.stdout.split()[-1]) if run.returncode == 0 else math.nan
            if run.returncode != 0:
                print(f"torch-train: {mode} at {n} thread(s) failed: {run.stderr.strip().splitlines()[-1:]}")
        ours = subprocess.run([args.mos, "bench", "train", "--threads", str(n), "--steps", str(args.steps)],
                              check=True, capture_output=True, text=True).stdout
        mine = float(next(line.split()[1] for line in ours.splitlines() if line.startswith("training")))
        rows.append((n, mine, peer["eager"], peer["compiled"]))
    print(f"quick profile training, batch {BATCH}×{CONTEXT}, {args.steps} timed steps; PyTorch {torch.__version__}")
    print(f"{'threads':>7}{'mos':>10}{'eager':>10}{'compiled':>10}{'mos/eager':>11}{'mos/compiled':>14}")
    for n, mine, eager, compiled in rows:
        print(f"{n:>7}{mine:>10.0f}{eager:>10.0f}{compiled:>10.0f}{mine / eager:>10.2f}×{mine / compiled:>13.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
