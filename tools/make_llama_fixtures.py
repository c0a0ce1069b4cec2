#!/usr/bin/env python3
"""Tiny random LLaMA models and their transformers logits, for Easel's LLaMA parity tests.

Made with: torch 2.15.0, transformers 5.24.0, safetensors 0.8.0, gguf 0.19.0, numpy 2.4.6.
Run from the repository root:  python3 tools/make_llama_fixtures.py
Writes Tests/LLMTests/Fixtures/llama/<case>/{config.json, model.safetensors, expected.json} and, for
the GGUF path, <case>/model-f32.gguf: the same weights as llama.cpp's converter would store them
(Q and K rows permuted for the adjacent-pair RoPE layout).
"""
import json
import pathlib

import gguf
import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM

OUT = pathlib.Path("Tests/LLMTests/Fixtures/llama")
BASE = dict(vocab_size=96, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
            max_position_embeddings=64, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2)
CASES = {
    # grouped-query attention, separate lm_head
    "gqa-untied": dict(num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
                       rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
    # multi-head attention, lm_head tied to the embedding
    "mha-tied": dict(num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=True,
                     rope_parameters={"rope_type": "default", "rope_theta": 500.0}),
    # linear RoPE scaling
    "rope-linear": dict(num_attention_heads=4, num_key_value_heads=1, tie_word_embeddings=False,
                        rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0}),
    # Llama 3 frequency-dependent RoPE scaling
    "rope-llama3": dict(num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=False,
                        rope_parameters={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                         "high_freq_factor": 4.0, "original_max_position_embeddings": 16,
                                         "rope_theta": 10000.0}),
}
INPUT_IDS = [1, 17, 42, 5, 88, 3, 60, 61, 62, 9, 0, 95, 33, 33, 33, 7, 70, 21, 44, 2]


def permute_for_gguf(w: np.ndarray, heads: int) -> np.ndarray:
    """llama.cpp convert_hf_to_gguf.py LlamaModel.permute: rotate-half rows → interleaved pairs."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(model: LlamaForCausalLM, cfg: LlamaConfig, path: pathlib.Path) -> None:
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_freq_base(cfg.rope_parameters["rope_theta"])
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_vocab_size(cfg.vocab_size)
    w.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    w.add_tensor("token_embd.weight", sd["model.embed_tokens.weight"])
    for l in range(cfg.num_hidden_layers):
        p = f"model.layers.{l}."
        w.add_tensor(f"blk.{l}.attn_norm.weight", sd[p + "input_layernorm.weight"])
        w.add_tensor(f"blk.{l}.attn_q.weight", permute_for_gguf(sd[p + "self_attn.q_proj.weight"], cfg.num_attention_heads))
        w.add_tensor(f"blk.{l}.attn_k.weight", permute_for_gguf(sd[p + "self_attn.k_proj.weight"], cfg.num_key_value_heads))
        w.add_tensor(f"blk.{l}.attn_v.weight", sd[p + "self_attn.v_proj.weight"])
        w.add_tensor(f"blk.{l}.attn_output.weight", sd[p + "self_attn.o_proj.weight"])
        w.add_tensor(f"blk.{l}.ffn_norm.weight", sd[p + "post_attention_layernorm.weight"])
        w.add_tensor(f"blk.{l}.ffn_gate.weight", sd[p + "mlp.gate_proj.weight"])
        w.add_tensor(f"blk.{l}.ffn_up.weight", sd[p + "mlp.up_proj.weight"])
        w.add_tensor(f"blk.{l}.ffn_down.weight", sd[p + "mlp.down_proj.weight"])
    w.add_tensor("output_norm.weight", sd["model.norm.weight"])
    if not cfg.tie_word_embeddings:
        w.add_tensor("output.weight", sd["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> None:
    for i, (name, extra) in enumerate(CASES.items()):
        torch.manual_seed(1000 + i)
        cfg = LlamaConfig(**BASE, **extra)
        model = LlamaForCausalLM(cfg).eval()
        # Random init gives near-zero norms' neighbours; perturb the norm weights so they matter.
        with torch.no_grad():
            for n, p in model.named_parameters():
                if n.endswith("layernorm.weight") or n == "model.norm.weight":
                    p.copy_(1 + 0.2 * torch.randn_like(p))
        d = OUT / name
        d.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(d, safe_serialization=True)
        ids = torch.tensor([INPUT_IDS])
        with torch.no_grad():
            out = model(ids, output_hidden_states=True)
            hidden = model.model(ids).last_hidden_state[0]
        expected = {
            "input_ids": INPUT_IDS,
            "logits": out.logits[0].numpy().round(7).tolist(),
            "last_hidden_state": hidden.numpy().round(7).tolist(),
        }
        (d / "expected.json").write_text(json.dumps(expected))
        if name in ("gqa-untied", "mha-tied"):
            write_gguf(model, cfg, d / "model-f32.gguf")
        for extra_file in ("generation_config.json",):
            (d / extra_file).unlink(missing_ok=True)
        print(name, "ok")


if __name__ == "__main__":
    main()
