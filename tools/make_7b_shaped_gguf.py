#!/usr/bin/env python3
"""A LLaMA-2-7B-shaped GGUF with random quantized weights, for the memory and speed benchmark only
(bench/llm_bench.py). Never committed: it is 3.6-4 GB of noise.

Made with: gguf 0.19.0, numpy 2.4.6.
Usage: python3 tools/make_7b_shaped_gguf.py q4_0   models/random-7b-Q4_0.gguf
       python3 tools/make_7b_shaped_gguf.py q4_k_m models/random-7b-Q4_K_M.gguf
Shapes are LLaMA-2-7B's (32 layers, 4096 wide, 32 heads, FFN 11008, context 4096). The vocabulary
(and so the embedding and output rows, 49152 instead of 32000) is SmolLM2's, copied from its GGUF,
because llama.cpp needs a real tokenizer to load a file. Block bytes are random, with the f16
scales of every block set to small finite values so the arithmetic stays finite-ish; the type mix
follows llama.cpp's presets: Q4_0 = Q4_0 everywhere but a Q6_K output; Q4_K_M = Q4_K with Q6_K for
attn_v, ffn_down and the output.
"""
import sys

import gguf
import numpy as np

T = gguf.GGMLQuantizationType
LAYERS, WIDTH, HEADS, FFN, CTX = 32, 4096, 32, 11008, 4096
SCALE_FIELDS = {  # byte offsets of f16 scale fields inside a block, per type
    T.Q4_0: [0], T.Q4_K: [0, 2], T.Q6_K: [208],
}


def random_blocks(rng, qtype, rows, cols):
    block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
    nblocks = rows * cols // block_elems
    data = rng.integers(0, 256, size=(nblocks, block_bytes), dtype=np.uint8)
    scale = np.array([0.002], dtype=np.float16).view(np.uint8)
    for off in SCALE_FIELDS[qtype]:
        data[:, off] = scale[0]
        data[:, off + 1] = scale[1]
    return data.reshape(rows, cols // block_elems * block_bytes)


def main(kind: str, dst: str) -> None:
    rng = np.random.default_rng(7)
    vocab_src = gguf.GGUFReader("models/SmolLM2-135M-Instruct.Q4_1.gguf")
    w = gguf.GGUFWriter(dst, "llama")
    w.add_block_count(LAYERS)
    w.add_context_length(CTX)
    w.add_embedding_length(WIDTH)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(HEADS)
    w.add_rope_dimension_count(WIDTH // HEADS)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    for key, field in vocab_src.fields.items():
        if key.startswith("tokenizer."):
            vtype = field.types[0]
            sub = field.types[1] if vtype == gguf.GGUFValueType.ARRAY else None
            w.add_key_value(key, field.contents(), vtype, sub_type=sub)
    vocab = len(vocab_src.fields["tokenizer.ggml.tokens"].data)
    main_t = T.Q4_0 if kind == "q4_0" else T.Q4_K
    more_bits = T.Q4_0 if kind == "q4_0" else T.Q6_K

    def add(name, qtype, rows, cols):
        w.add_tensor(name, random_blocks(rng, qtype, rows, cols), raw_dtype=qtype)

    add("token_embd.weight", main_t, vocab, WIDTH)
    for l in range(LAYERS):
        w.add_tensor(f"blk.{l}.attn_norm.weight", np.ones(WIDTH, dtype=np.float32))
        w.add_tensor(f"blk.{l}.ffn_norm.weight", np.ones(WIDTH, dtype=np.float32))
        add(f"blk.{l}.attn_q.weight", main_t, WIDTH, WIDTH)
        add(f"blk.{l}.attn_k.weight", main_t, WIDTH, WIDTH)
        add(f"blk.{l}.attn_v.weight", more_bits, WIDTH, WIDTH)
        add(f"blk.{l}.attn_output.weight", main_t, WIDTH, WIDTH)
        add(f"blk.{l}.ffn_gate.weight", main_t, FFN, WIDTH)
        add(f"blk.{l}.ffn_up.weight", main_t, FFN, WIDTH)
        add(f"blk.{l}.ffn_down.weight", more_bits, WIDTH, FFN)
    w.add_tensor("output_norm.weight", np.ones(WIDTH, dtype=np.float32))
    add("output.weight", T.Q6_K, vocab, WIDTH)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_0 if kind == "q4_0" else gguf.LlamaFileType.MOSTLY_Q4_K_M)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
