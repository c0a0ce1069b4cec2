#!/usr/bin/env python3
# Writes Tests/DiffusionTests/Fixtures/tiny-sd-single.safetensors: the tiny-sd pipeline (tools/make_sd_fixtures.py)
# as one original-layout SD v1 checkpoint (CompVis names: model.diffusion_model.*, first_stage_model.*,
# cond_stage_model.transformer.*). The renaming below is checked by running diffusers' own single-file
# converters (convert_ldm_unet_checkpoint, convert_ldm_vae_checkpoint, convert_ldm_clip_checkpoint) on the
# result: they must give back exactly the diffusers state dicts. Dtypes are kept (UNet fp16, the rest fp32).
# Versions: torch 2.15.0, diffusers 0.42.1, transformers 5.24.0, safetensors 0.8.0.
import json, os
import torch
from safetensors.torch import load_file, save_file

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "DiffusionTests", "Fixtures")
RESNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "time_emb_proj": "emb_layers.1", "norm2": "out_layers.0",
          "conv2": "out_layers.3", "conv_shortcut": "skip_connection"}


def unet_name(n, cfg):
    p = n.split(".")
    layers = cfg["layers_per_block"]
    blocks = len(cfg["block_out_channels"])
    if p[0] == "time_embedding":
        return {"linear_1": "time_embed.0", "linear_2": "time_embed.2"}[p[1]] + "." + ".".join(p[2:])
    if p[0] == "conv_in":
        return "input_blocks.0.0." + ".".join(p[1:])
    if p[0] == "conv_norm_out":
        return "out.0." + ".".join(p[1:])
    if p[0] == "conv_out":
        return "out.2." + ".".join(p[1:])
    if p[0] == "down_blocks":
        b, kind = int(p[1]), p[2]
        if kind == "downsamplers":
            return f"input_blocks.{(b + 1) * (layers + 1)}.0.op." + ".".join(p[5:])
        i = 1 + b * (layers + 1) + int(p[3])
        if kind == "resnets":
            return f"input_blocks.{i}.0.{RESNET[p[4]]}." + ".".join(p[5:])
        return f"input_blocks.{i}.1." + ".".join(p[4:])
    if p[0] == "mid_block":
        index = {("resnets", "0"): 0, ("attentions", "0"): 1, ("resnets", "1"): 2}[(p[1], p[2])]
        if p[1] == "resnets":
            return f"middle_block.{index}.{RESNET[p[3]]}." + ".".join(p[4:])
        return f"middle_block.{index}." + ".".join(p[3:])
    if p[0] == "up_blocks":
        b, kind = int(p[1]), p[2]
        if kind == "upsamplers":
            has_attention = cfg["up_block_types"][b].startswith("CrossAttn")
            return f"output_blocks.{b * (layers + 1) + layers}.{2 if has_attention else 1}.conv." + ".".join(p[5:])
        i = b * (layers + 1) + int(p[3])
        if kind == "resnets":
            return f"output_blocks.{i}.0.{RESNET[p[4]]}." + ".".join(p[5:])
        return f"output_blocks.{i}.1." + ".".join(p[4:])
    raise KeyError(n)


def vae_name(n, cfg):
    p = n.split(".")
    blocks = len(cfg["block_out_channels"])
    simple = {"conv_norm_out": "norm_out"}
    side = p[0]
    if side in ("quant_conv", "post_quant_conv"):
        return n
    rest = p[1:]
    if rest[0] in ("conv_in", "conv_out", "conv_norm_out"):
        return f"{side}.{simple.get(rest[0], rest[0])}." + ".".join(rest[1:])
    if rest[0] == "mid_block":
        if rest[1] == "resnets":
            name = rest[3].replace("conv_shortcut", "nin_shortcut")
            return f"{side}.mid.block_{int(rest[2]) + 1}.{name}." + ".".join(rest[4:])
        sub = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out": "proj_out"}[rest[3]]
        tail = rest[5:] if rest[3] == "to_out" else rest[4:]
        return f"{side}.mid.attn_1.{sub}." + ".".join(tail)
    b = int(rest[1])
    if side == "decoder":
        b = blocks - 1 - b
        group, sampler = "up", "upsample"
    else:
        group, sampler = "down", "downsample"
    if rest[2] in ("upsamplers", "downsamplers"):
        return f"{side}.{group}.{b}.{sampler}.conv." + ".".join(rest[5:])
    name = rest[4].replace("conv_shortcut", "nin_shortcut")
    return f"{side}.{group}.{b}.block.{rest[3]}.{name}." + ".".join(rest[5:])


def main():
    from diffusers.loaders.single_file_utils import (convert_ldm_unet_checkpoint, convert_ldm_vae_checkpoint,
                                                     convert_ldm_clip_checkpoint)
    tiny = os.path.join(ROOT, "tiny-sd")
    unet_cfg = json.load(open(os.path.join(tiny, "unet", "config.json")))
    vae_cfg = json.load(open(os.path.join(tiny, "vae", "config.json")))
    unet = load_file(os.path.join(tiny, "unet", "diffusion_pytorch_model.fp16.safetensors"))
    vae = load_file(os.path.join(tiny, "vae", "diffusion_pytorch_model.safetensors"))
    clip = load_file(os.path.join(tiny, "text_encoder", "model.safetensors"))
    ckpt = {}
    for k, v in unet.items():
        ckpt["model.diffusion_model." + unet_name(k, unet_cfg)] = v
    for k, v in vae.items():
        name = vae_name(k, vae_cfg)
        # The original VAE attention is 1x1 convolutions.
        if ".mid.attn_1." in name and v.dim() == 2:
            v = v[:, :, None, None]
        ckpt["first_stage_model." + name] = v
    for k, v in clip.items():
        ckpt["cond_stage_model.transformer.text_model." + k] = v

    # diffusers' converters must give back the diffusers state dicts exactly.
    back = convert_ldm_unet_checkpoint(dict(ckpt), unet_cfg)
    assert set(back) == set(unet) and all(torch.equal(back[k], unet[k]) for k in unet), "UNet renaming disagrees with diffusers"
    back = convert_ldm_vae_checkpoint(dict(ckpt), vae_cfg)
    assert set(back) == set(vae) and all(torch.equal(back[k].reshape(vae[k].shape), vae[k]) for k in vae), "VAE renaming disagrees"
    back = convert_ldm_clip_checkpoint(dict(ckpt))
    back = {k.removeprefix("text_model."): v for k, v in back.items() if "position_ids" not in k}
    assert set(back) == set(clip), "CLIP renaming disagrees with diffusers"
    save_file({k: v.contiguous() for k, v in ckpt.items()}, os.path.join(ROOT, "tiny-sd-single.safetensors"))
    print(len(ckpt), "tensors")


if __name__ == "__main__":
    main()
