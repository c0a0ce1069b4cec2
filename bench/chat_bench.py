#!/usr/bin/env python3
"""Conversation latency: time to first token of a chat turn, and Enter to picture path of an image turn.

Usage: python3 bench/chat_bench.py [--runs 7] [--threads 2] [--sd-model DIR] [--no-peer]
Builds nothing: run `swift build -c release` first. Easel is timed through `easel run` (the same engine
as the REPL; its JSONL record holds each turn's timings from the moment the turn is sent), on a script
that alternates a first chat turn (/reset before it: the whole prompt is prefilled), a second chat turn
(the first one cached) and an image turn (/reset first). Model loading is not timed.
Peer for the first token: llama-cpp-python 0.3.36 on the same GGUF and the same chat (its own copy of
the model's chat template, which adds the same default system prompt), greedy, streaming, same threads;
the prompt token counts are printed so the two prompts can be checked to be the same length.
The picture time has no peer here: bench/sd_bench.sh compares the pipeline itself with diffusers.
Prints a Markdown table of medians for BENCHMARKS.md.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORK = ROOT / "bench/work/chat"

ap = argparse.ArgumentParser()
ap.add_argument("--runs", type=int, default=7)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--model", default=str(ROOT / "models/SmolLM2-135M-Instruct.Q4_1.gguf"))
ap.add_argument("--sd-model", default=None, help="drawing model (default: Easel's, easel-mini)")
ap.add_argument("--steps", type=int, default=20)
ap.add_argument("--easel", default=str(ROOT / ".build/release/easel"))
ap.add_argument("--no-peer", action="store_true")
a = ap.parse_args()

FIRST = "Hi! What can you do?"
SECOND = "Tell me more about the first thing."
PICTURE = "Draw a red circle on a blue background"

WORK.mkdir(parents=True, exist_ok=True)
for old in WORK.glob("easel-*.png"):
    old.unlink()
lines = ["/seed 1", "/temperature 0", "/max-tokens 32", f"/steps {a.steps}"]
for _ in range(a.runs):
    lines += ["/reset", FIRST, SECOND, "/reset", PICTURE]
(WORK / "bench.txt").write_text("\n".join(lines) + "\n")

env = dict(os.environ, EASEL_THREADS=str(a.threads))
cmd = [a.easel, "run", str(WORK / "bench.txt"), "--out", str(WORK), "--quiet", "--model", a.model]
if a.sd_model:
    cmd += ["--sd-model", a.sd_model]
subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)

first, second, picture, drawing_model = [], [], [], None
first_prompt = None
for line in (WORK / "bench.jsonl").read_text().splitlines():
    entry = json.loads(line)
    turn = entry.get("turn")
    if not turn:
        continue
    if turn.get("error"):
        sys.exit(f"easel run: {turn['user']}: {turn['error']}")
    if turn["user"] == FIRST:
        first.append(turn["timings"]["firstToken"])
        first_prompt = turn["promptTokens"]
    elif turn["user"] == SECOND:
        second.append(turn["timings"]["firstToken"])
    elif turn["user"] == PICTURE:
        picture.append(turn["timings"]["image"])
        drawing_model = turn["image"]
header = (WORK / "bench.md").read_text().splitlines()[2]

peer = []
peer_prompt = None
if not a.no_peer:
    from llama_cpp import Llama

    llm = Llama(model_path=a.model, n_ctx=4096, n_threads=a.threads, n_threads_batch=a.threads, verbose=False)
    messages = [{"role": "user", "content": FIRST}]
    for _ in range(a.runs):
        llm.reset()
        start = time.perf_counter()
        stream = llm.create_chat_completion(messages=messages, temperature=0, max_tokens=32, stream=True)
        for chunk in stream:
            if chunk["choices"][0]["delta"].get("content"):
                peer.append(time.perf_counter() - start)
                break
        for _ in stream:
            pass
    # The prompt llama.cpp built, counted the same way: its template rendered and tokenized.
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    if template:
        fmt = Jinja2ChatFormatter(template=template, eos_token="<|im_end|>", bos_token="<|im_start|>")
        text = fmt(messages=messages).prompt
        peer_prompt = len(llm.tokenize(text.encode(), add_bos=False, special=True))


def ms(xs):
    return f"{statistics.median(xs) * 1000:.0f} ms"


print(f"{header}; {a.threads} threads, {a.runs} runs each, medians")
print()
print("| measure | Easel | llama.cpp | ratio |")
print("|---|---|---|---|")
row = f"| first token, first turn ({first_prompt} prompt tokens"
if peer:
    row += f"; llama.cpp {peer_prompt})" if peer_prompt is not None else ")"
    row += f" | {ms(first)} | {ms(peer)} | {statistics.median(first) / statistics.median(peer):.2f}× |"
else:
    row += f") | {ms(first)} | – | – |"
print(row)
print(f"| first token, second turn (first turn cached) | {ms(second)} | – | – |")
size = f"{drawing_model['width']}×{drawing_model['height']}" if drawing_model else "?"
print(f"| Enter to picture path ({size}, {a.steps} steps, {drawing_model['scheduler'] if drawing_model else '?'}) | {ms(picture)} | – | – |")
