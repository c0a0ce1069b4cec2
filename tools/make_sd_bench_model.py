#!/usr/bin/env python3
# Makes an SD-v1.4-shaped diffusers folder with random fp16 weights for benchmarks (never committed: it is
# 2 GB). Shapes are SD v1.4's: CLIP ViT-L/14 text tower, the 860M-parameter UNet, the 84M-parameter VAE;
# tokenizer is CLIP's real vocabulary (tools/make_sd_clip_vocab.py); scheduler is v1.4's PNDM config.
# Versions: torch 2.15.0, diffusers 0.42.1, transformers 5.24.0.
# Usage: python3 tools/make_sd_bench_model.py [OUT]   (default bench/work/sd14-random)
import json, os, sys
import torch

sys.path.insert(0, os.path.dirname(__file__))
from make_sd_clip_vocab import write_clip_vocab  # noqa: E402


def main():
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "bench", "work", "sd14-random")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    tok = os.path.join(out, "tokenizer")
    write_clip_vocab(tok)
    with open(os.path.join(tok, "tokenizer_config.json"), "w") as f:
        json.dump({"model_max_length": 77, "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
                   "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}, f, indent=2)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                        num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu",
                                        projection_dim=768))
    text.half().save_pretrained(os.path.join(out, "text_encoder"))
    del text
    unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768, attention_head_dim=8)
    unet.half().save_pretrained(os.path.join(out, "unet"))
    del unet
    vae = AutoencoderKL(block_out_channels=[128, 256, 512, 512], down_block_types=["DownEncoderBlock2D"] * 4,
                        up_block_types=["UpDecoderBlock2D"] * 4, layers_per_block=2, sample_size=512)
    vae.half().save_pretrained(os.path.join(out, "vae"))
    PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", set_alpha_to_one=False,
                  skip_prk_steps=True, steps_offset=1).save_pretrained(os.path.join(out, "scheduler"))
    with open(os.path.join(out, "model_index.json"), "w") as f:
        json.dump({"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.42.1",
                   "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
                   "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
                   "vae": ["diffusers", "AutoencoderKL"], "safety_checker": [None, None],
                   "feature_extractor": [None, None], "requires_safety_checker": False}, f, indent=2)
    print(out)


if __name__ == "__main__":
    main()
