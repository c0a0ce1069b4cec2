#!/usr/bin/env python3
"""llama.cpp reference logits and greedy continuations for SmolLM2-135M-Instruct, for Easel's
parity tests (Tests/LLMTests/Fixtures/llamacpp/<model>.json).

Made with: llama-cpp-python 0.3.36 (built from source with GGML_NATIVE=OFF, AVX2/FMA/F16C),
gguf 0.19.0, numpy 2.4.6.
Usage: python3 tools/make_f32_gguf.py models/SmolLM2-135M-Instruct.Q4_1.gguf models/SmolLM2-135M-Instruct.F32.gguf
       python3 tools/make_llamacpp_refs.py
The prompt token ids come from llama.cpp's own tokenizer, so the logits test does not depend on
Easel's tokenizer (which has its own parity test). For each prompt the file keeps the 256 largest
first-step logits (id, value) and 24 greedy steps with llama.cpp's top-2 margin at each step.
"""
import json
import pathlib

import numpy as np
from llama_cpp import Llama

MODELS = {
    "smollm2-q4_1": "models/SmolLM2-135M-Instruct.Q4_1.gguf",
    "smollm2-f32": "models/SmolLM2-135M-Instruct.F32.gguf",
}
SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
QUESTIONS = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "Explain what a hash table is in two sentences.",
    "How many legs does a spider have?",
    "Give me three tips for sleeping better.",
    "Translate 'good morning' into Spanish.",
]
TOP = 256
STEPS = 24
OUT = pathlib.Path("Tests/LLMTests/Fixtures/llamacpp")


def chatml(question: str) -> str:
    return (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"
            f"<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, path in MODELS.items():
        llm = Llama(model_path=path, n_ctx=512, n_threads=2, n_batch=512, logits_all=True, verbose=False)
        cases = []
        for q in QUESTIONS:
            ids = llm.tokenize(chatml(q).encode(), add_bos=False, special=True)
            llm.reset()
            llm.eval(ids)
            logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            order = np.argsort(-logits, kind="stable")[:TOP]
            first = {"ids": order.tolist(), "logits": [float(logits[i]) for i in order]}
            greedy, margins = [], []
            for _ in range(STEPS):
                top2 = np.argsort(-logits, kind="stable")[:2]
                greedy.append(int(top2[0]))
                margins.append(float(logits[top2[0]] - logits[top2[1]]))
                if int(top2[0]) in (2, llm.token_eos()):
                    break
                llm.eval([int(top2[0])])
                logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
            cases.append({"question": q, "prompt_ids": ids, "first_step": first, "greedy": greedy, "margins": margins,
                          "greedy_text": llm.detokenize(greedy).decode("utf-8", "replace")})
            print(name, q, "->", cases[-1]["greedy_text"][:60].replace("\n", " "))
        (OUT / f"{name}.json").write_text(json.dumps({"model": path, "cases": cases}, indent=0))


if __name__ == "__main__":
    main()
