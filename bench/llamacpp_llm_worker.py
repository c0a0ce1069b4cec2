#!/usr/bin/env python3
"""One llama.cpp measurement, the peer side of bench/llm_bench.py: the same work `easel bench llm`
does (prefill a prompt of exactly N tokens, then M greedy decode steps that ignore end tokens),
printed as one JSON object with prefill_tok_s, decode_tok_s, peak_rss_mb.
Made with llama-cpp-python 0.3.36, numpy 2.4.6."""
import argparse
import json
import resource
import time

import numpy as np
from llama_cpp import Llama

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--threads", type=int, required=True)
ap.add_argument("--prompt-tokens", type=int, default=128)
ap.add_argument("--decode-tokens", type=int, default=64)
ap.add_argument("--prompt-ids", required=True, help="comma-separated token ids, the same ones Easel uses")
a = ap.parse_args()

ids = [int(t) for t in a.prompt_ids.split(",")][: a.prompt_tokens]
llm = Llama(model_path=a.model, n_ctx=a.prompt_tokens + a.decode_tokens + 8, n_threads=a.threads,
            n_threads_batch=a.threads, n_batch=512, logits_all=False, verbose=False)
llm.reset()
t0 = time.perf_counter()
llm.eval(ids)
t1 = time.perf_counter()
next_id = int(np.argmax(llm.scores[llm.n_tokens - 1]))
t2 = time.perf_counter()
for _ in range(a.decode_tokens):
    llm.eval([next_id])
    next_id = int(np.argmax(llm.scores[llm.n_tokens - 1]))
t3 = time.perf_counter()
print(json.dumps({
    "prefill_tok_s": len(ids) / (t1 - t0),
    "decode_tok_s": a.decode_tokens / (t3 - t2),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
