#!/usr/bin/env python3
"""easel-mini: one whole picture (64x64, 20 PNDM steps, guidance 7.5) by Easel and by diffusers, alternating.

Usage: python3 bench/mini_bench.py [--rounds 5] [--threads 2] [--model easel-mini]
Builds nothing: run `swift build -c release` (the Makefile's flags) first. Each round runs
`easel bench sd --model easel-mini --full-steps 20 --json` (model load not timed) and then this script's
diffusers 0.42.1 / torch 2.15.0 pipeline on the same folder in float32, same prompt, steps, guidance and
thread count, timing `pipe(prompt)` after one warm-up call. Prints a Markdown table of medians and the
Easel / PyTorch time ratio for BENCHMARKS.md.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROMPT = "a photograph of an astronaut riding a horse"  # what `easel bench sd` draws

ap = argparse.ArgumentParser()
ap.add_argument("--rounds", type=int, default=5)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--model", default=str(ROOT / "easel-mini"))
ap.add_argument("--steps", type=int, default=20)
ap.add_argument("--easel", default=str(ROOT / ".build/release/easel"))
a = ap.parse_args()

os.environ.update(EASEL_THREADS=str(a.threads), OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))
import torch  # noqa: E402  (after the thread variables)
from diffusers import StableDiffusionPipeline  # noqa: E402

torch.set_num_threads(a.threads)
pipe = StableDiffusionPipeline.from_pretrained(a.model, torch_dtype=torch.float32, safety_checker=None,
                                               requires_safety_checker=False)
pipe.set_progress_bar_config(disable=True)


def torch_once() -> float:
    start = time.perf_counter()
    with torch.inference_mode():
        pipe(PROMPT, num_inference_steps=a.steps, guidance_scale=7.5, generator=torch.Generator().manual_seed(0))
    return time.perf_counter() - start


def easel_once() -> dict:
    out = subprocess.run([a.easel, "bench", "sd", "--model", a.model, "--runs", "1", "--text-positions", "32",
                          "--full-steps", str(a.steps), "--threads", str(a.threads), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


torch_once()  # warm-up: first-call allocations and kernel selection
easel, peer, rss = [], [], []
for _ in range(a.rounds):
    e = easel_once()
    easel.append(e["generate_s"])
    rss.append(e["peak_rss_mb"])
    peer.append(torch_once())
me, mp = statistics.median(easel), statistics.median(peer)
print(f"| measure | Easel | diffusers/PyTorch | Easel / PyTorch time |")
print(f"|---|---|---|---|")
print(f"| one {a.steps}-step 64x64 picture with guidance (median of {a.rounds}) | {me:.3f} s | {mp:.3f} s | {me / mp:.2f}x |")
print(f"| Easel peak RSS (bench process) | {statistics.median(rss):.0f} MB | | |")
print(f"\nrounds: easel {[round(x, 3) for x in easel]}, torch {[round(x, 3) for x in peer]}; "
      f"load average {os.getloadavg()[0]:.2f}; command: python3 bench/mini_bench.py --rounds {a.rounds} --threads {a.threads}")
