#!/usr/bin/env python3
"""A peer for `mos bench decode`: the same float decode in PyTorch, in the same run.

Builds the float model of `mos bench decode` in PyTorch (a LLaMA-style decoder:
RMSNorm, rotary positions on pairs (2i, 2i+1), multi-head attention over a KV
cache, SwiGLU, an untied head; random float32 weights, whose values do not set
the speed) with the same number of blocks as mos's float model runs, decodes
the same number of tokens one at a time under torch.inference_mode at each
thread count, and scales the blocks' time to the shape's depth as mos does.
Then it runs `mos bench decode --json` with the same settings and prints each
of its methods' tokens/s over PyTorch's float model's at the same thread count.

Optional: without torch it says so and exits 0. Not part of `make test`.

    python3 scripts/torch-decode.py [--mos .build/release/mos] [--shape llama-1-7b]
        [--threads 1,2] [--tokens 32] [--rounds 3] [--float-layers 4]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

SHAPES = {  # dim, ffn, blocks, heads, vocabulary: as DecodeBenchmark.shapes
    "llama-1-7b": (4096, 11008, 32, 32, 32000), "llama-2-7b": (4096, 11008, 32, 32, 32000),
    "llama-1-13b": (5120, 13824, 40, 40, 32000), "llama-2-13b": (5120, 13824, 40, 40, 32000),
    "compact": (64, 192, 4, 4, 256),
}


def decode_seconds(torch, shape, blocks_run, tokens, rounds, threads):
    """Seconds per token at the full depth, fastest round, as mos scales them."""
    dim, ffn, blocks, heads, vocabulary = shape
    hd = dim // heads
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(1)

    def weight(rows, cols):
        return (torch.rand(rows, cols, generator=g) - 0.5) * 0.04

    layers = [dict(q=weight(dim, dim), k=weight(dim, dim), v=weight(dim, dim), o=weight(dim, dim),
                   gate=weight(ffn, dim), up=weight(ffn, dim), down=weight(dim, ffn),
                   n1=torch.ones(dim), n2=torch.ones(dim)) for _ in range(blocks_run)]
    embedding, head, final = weight(vocabulary, dim), weight(vocabulary, dim), torch.ones(dim)
    inverse = 10000.0 ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    angles = torch.arange(tokens, dtype=torch.float32)[:, None] * inverse[None, :]
    cos, sin = angles.cos(), angles.sin()
    keys = [torch.zeros(tokens, heads, hd) for _ in layers]
    values = [torch.zeros(tokens, heads, hd) for _ in layers]

    def norm(x, gain):
        return x * torch.rsqrt(x.pow(2).mean() + 1e-5) * gain

    def rotate(x, p):  # x [heads, hd], pairs (2i, 2i+1)
        a, b = x[:, 0::2], x[:, 1::2]
        return torch.stack((a * cos[p] - b * sin[p], a * sin[p] + b * cos[p]), dim=-1).reshape(heads, hd)

    def step(token, p):
        """Returns (seconds in the blocks, seconds in embedding and head)."""
        t0 = time.perf_counter()
        x = embedding[token].clone()
        t1 = time.perf_counter()
        for l, w in enumerate(layers):
            h = norm(x, w["n1"])
            q = rotate(torch.mv(w["q"], h).view(heads, hd), p)
            keys[l][p] = rotate(torch.mv(w["k"], h).view(heads, hd), p)
            values[l][p] = torch.mv(w["v"], h).view(heads, hd)
            scores = torch.einsum("hd,shd->hs", q, keys[l][:p + 1]) / math.sqrt(hd)
            mix = torch.einsum("hs,shd->hd", torch.softmax(scores, dim=-1), values[l][:p + 1])
            x = x + torch.mv(w["o"], mix.reshape(dim))
            h2 = norm(x, w["n2"])
            x = x + torch.mv(w["down"], torch.nn.functional.silu(torch.mv(w["gate"], h2)) * torch.mv(w["up"], h2))
        t2 = time.perf_counter()
        torch.mv(head, norm(x, final))
        t3 = time.perf_counter()
        return t2 - t1, (t1 - t0) + (t3 - t2)

    with torch.inference_mode():
        step(0, 0), step(1, 1)  # warm-up
        best = math.inf
        for _ in range(rounds):
            inside = outside = 0.0
            for p in range(tokens):
                b, o = step(p * 7919 % vocabulary, p)
                inside, outside = inside + b, outside + o
            best = min(best, (outside + inside * blocks / blocks_run) / tokens)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mos", default=".build/release/mos", help="the mos binary (default: %(default)s)")
    parser.add_argument("--shape", default="llama-1-7b", choices=sorted(SHAPES))
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default: %(default)s)")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--float-layers", type=int, default=4)
    parser.add_argument("--method", default="onebit,mos,rtn2", help="mos's layouts beside fp (default: %(default)s)")
    parser.add_argument("--peer-threads", type=int, help=argparse.SUPPRESS)  # one PyTorch measurement, for main
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print(f"torch-decode: skipped, {sys.executable} has no torch (on Debian: apt-get install python3-torch)")
        return 0
    shape = SHAPES[args.shape]
    blocks_run = min(args.float_layers, shape[2])
    if args.peer_threads:
        print(decode_seconds(torch, shape, blocks_run, args.tokens, args.rounds, args.peer_threads))
        return 0
    # Each thread count in its own process: the BLAS behind torch (OpenBLAS on Debian) reads its
    # thread count from the environment once, and ignores torch.set_num_threads.
    counts = [int(n) for n in args.threads.split(",")]
    peer = {}
    for n in counts:
        limits = {name: str(n) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        run = subprocess.run([sys.executable, __file__, "--peer-threads", str(n), "--shape", args.shape,
                              "--tokens", str(args.tokens), "--rounds", str(args.rounds),
                              "--float-layers", str(args.float_layers)],
                             check=True, capture_output=True, text=True, env={**os.environ, **limits})
        peer[n] = float(run.stdout)
    ours = subprocess.run([args.mos, "bench", "decode", "--json", "--shape", args.shape, "--threads", args.threads,
                           "--tokens", str(args.tokens), "--rounds", str(args.rounds),
                           "--float-layers", str(args.float_layers), "--method", args.method],
                          check=True, capture_output=True, text=True)
    report = json.loads(ours.stdout)
    print(f"shape {args.shape}: {args.tokens} tokens from an empty cache, fastest of {args.rounds} rounds; "
          f"PyTorch {torch.__version__} float32 under inference_mode, {blocks_run} of {shape[2]} blocks run and scaled")
    print(f"{'method':<10}{'threads':>8}{'tokens/s':>11}{'PyTorch fp':>12}{'ours / PyTorch':>16}")
    for r in report["results"]:
        theirs = 1 / peer[r["threads"]]
        print(f"{r['method']:<10}{r['threads']:>8}{r['tokens_per_second']:>11.3f}{theirs:>12.3f}"
              f"{r['tokens_per_second'] / theirs:>15.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
