#!/usr/bin/env python3
"""Easel vs llama.cpp on the same GGUF, same prompt ids, same thread count, alternating runs.

Usage: python3 bench/llm_bench.py [--model models/SmolLM2-135M-Instruct.Q4_1.gguf] [--threads 2] [--runs 5]
Builds nothing: run `swift build -c release` first. Prints a Markdown table of medians and the
Easel/llama.cpp ratios (higher is better for tokens/s), ready for BENCHMARKS.md.
Peer: llama-cpp-python 0.3.36 (bench/llamacpp_llm_worker.py, a fresh process per run).
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
EASEL = ROOT / ".build/release/easel"

ap = argparse.ArgumentParser()
ap.add_argument("--model", default=str(ROOT / "models/SmolLM2-135M-Instruct.Q4_1.gguf"))
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--prompt-tokens", type=int, default=128)
ap.add_argument("--decode-tokens", type=int, default=64)
ap.add_argument("--easel", default=str(EASEL), help="the easel binary (e.g. a CPU=x86-64-v3 build)")
a = ap.parse_args()
EASEL = pathlib.Path(a.easel)


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


common = ["--threads", str(a.threads), "--prompt-tokens", str(a.prompt_tokens), "--decode-tokens", str(a.decode_tokens)]
# Easel picks the prompt (a fixed text tokenized by the model's tokenizer, repeated to length) and
# reports its ids, so both sides prefill exactly the same tokens.
probe = run([str(EASEL), "bench", "llm", "--model", a.model, "--json", "--runs", "0", *common])
ids = ",".join(map(str, probe["prompt_ids"]))
results = {"easel": [], "llama.cpp": []}
for i in range(a.runs):
    results["easel"].append(run([str(EASEL), "bench", "llm", "--model", a.model, "--json", *common]))
    results["llama.cpp"].append(run([sys.executable, str(ROOT / "bench/llamacpp_llm_worker.py"), "--model", a.model,
                                     "--prompt-ids", ids, *common]))
    print(f"run {i + 1}/{a.runs}: easel {results['easel'][-1]} llama.cpp {results['llama.cpp'][-1]}", file=sys.stderr)

med = {k: {m: statistics.median(r[m] for r in v) for m in ("prefill_tok_s", "decode_tok_s", "peak_rss_mb")}
       for k, v in results.items()}
name = pathlib.Path(a.model).name
print(f"| model | metric | Easel | llama.cpp | Easel / llama.cpp |")
print(f"|---|---|---|---|---|")
for m, label in (("prefill_tok_s", f"prefill {a.prompt_tokens} tok (tok/s)"), ("decode_tok_s", f"decode {a.decode_tokens} tok (tok/s)"),
                 ("peak_rss_mb", "peak RSS (MB)")):
    e, p = med["easel"][m], med["llama.cpp"][m]
    print(f"| {name} | {label} | {e:.1f} | {p:.1f} | {e / p:.2f}× |")
print(f"\nmedians of {a.runs} alternating runs, {a.threads} threads; command: python3 bench/llm_bench.py "
      f"--model {a.model} --threads {a.threads} --runs {a.runs} --prompt-tokens {a.prompt_tokens} "
      f"--decode-tokens {a.decode_tokens} --easel {a.easel}")
