"""Architectures of easel-mini: the SD v1 family (CLIP, AutoencoderKL, UNet2DConditionModel), shrunk.

Shared by the three trainers and the exporter so every stage builds the same shapes.
"""

from __future__ import annotations

import os

import torch

import common

MAX_TOKENS = 32  # every caption of the dataset fits in 32 CLIP tokens with <|startoftext|>/<|endoftext|>
BOS, EOS = 49406, 49407

# SD v1 noise schedule.
SCHEDULE = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")


def clip_config():
    from transformers import CLIPConfig

    text = dict(vocab_size=49408, hidden_size=64, intermediate_size=256, num_hidden_layers=4,
                num_attention_heads=4, max_position_embeddings=MAX_TOKENS, hidden_act="quick_gelu",
                projection_dim=64, bos_token_id=BOS, eos_token_id=EOS, pad_token_id=EOS)
    vision = dict(image_size=64, patch_size=8, num_channels=3, hidden_size=64, intermediate_size=256,
                  num_hidden_layers=4, num_attention_heads=4, hidden_act="quick_gelu", projection_dim=64)
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=64, logit_scale_init_value=2.6592)


def make_clip():
    from transformers import CLIPModel

    return CLIPModel(clip_config())


def make_vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        in_channels=3, out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        block_out_channels=(16, 32, 64),  # three blocks: two 2x downsamplings, 64x64 -> 16x16
        layers_per_block=1, latent_channels=4, norm_num_groups=8, sample_size=64,
    )


def make_unet():
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        block_out_channels=(32, 64, 128), layers_per_block=1,  # equal conv cost per level: 16x16x32, 8x8x64, 4x4x128
        cross_attention_dim=64, attention_head_dim=4, norm_num_groups=8,  # attention_head_dim is the head count, as in SD v1
    )


def tokenizer():
    from transformers import CLIPTokenizer

    d = os.path.join(common.RUNS, "tokenizer")  # written by: python3 training/make_clip_vocab.py --out <runs>/tokenizer
    return CLIPTokenizer(os.path.join(d, "vocab.json"), os.path.join(d, "merges.txt"), model_max_length=MAX_TOKENS)


def tokenize(tok, captions: list[str]) -> torch.Tensor:
    """(N, MAX_TOKENS) ids padded with <|endoftext|>, as SD v1 pipelines pad."""
    ids = tok(captions, padding="max_length", max_length=MAX_TOKENS, truncation=True, return_tensors="pt").input_ids
    return ids


def count(model) -> int:
    return sum(p.numel() for p in model.parameters())
