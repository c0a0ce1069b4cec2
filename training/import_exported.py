"""Rebuild the training runs' model folders from an exported easel-mini, so training can continue from the
committed model on a machine whose training/runs/ is gone (it is gitignored).

  python3 training/import_exported.py --from easel-mini

Writes runs/clip/model (a CLIPModel: the text tower from text_encoder/, the vision tower and both
projections and the logit scale from vision_model/), runs/vae/model (the exported AutoencoderKL: stage (b)'s
encoder with stage (b'')'s decoder, and its scaling factor) and runs/tokenizer (the exported vocab.json and
merges.txt). The weights are the exported fp16 ones widened to fp32. Then e.g.

  python3 train_clip.py --init-from runs/clip/model --run clip_attr --attribute-weight 1 ...
  python3 train_unet.py --init-from ../easel-mini/unet --clip clip_attr --run unet_attr ...
"""

from __future__ import annotations

import argparse
import os
import shutil

import torch

import common
import models


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--from", dest="source", default=os.path.join(common.HERE, "..", "easel-mini"))
    args = p.parse_args()

    from diffusers import AutoencoderKL
    from safetensors.torch import load_file
    from transformers import CLIPModel, CLIPTextModel, CLIPVisionModelWithProjection

    clip = CLIPModel(models.clip_config())
    text = CLIPTextModel.from_pretrained(os.path.join(args.source, "text_encoder"), torch_dtype=torch.float32)
    vision = CLIPVisionModelWithProjection.from_pretrained(os.path.join(args.source, "vision_model"),
                                                           torch_dtype=torch.float32)
    extra = load_file(os.path.join(args.source, "vision_model", "text_projection.safetensors"))
    clip.text_model.load_state_dict(text.state_dict())
    clip.vision_model.load_state_dict(vision.vision_model.state_dict())
    clip.visual_projection.load_state_dict(vision.visual_projection.state_dict())
    with torch.no_grad():
        clip.text_projection.weight.copy_(extra["text_projection.weight"].float())
        clip.logit_scale.copy_(extra["logit_scale"].float().reshape(()))
    clip.save_pretrained(os.path.join(common.RUNS, "clip", "model"))

    vae = AutoencoderKL.from_pretrained(os.path.join(args.source, "vae"), torch_dtype=torch.float32)
    vae.save_pretrained(os.path.join(common.RUNS, "vae", "model"))

    tok = os.path.join(common.RUNS, "tokenizer")
    os.makedirs(tok, exist_ok=True)
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(args.source, "tokenizer", name), os.path.join(tok, name))
    print(f"runs/clip/model, runs/vae/model and runs/tokenizer rebuilt from {args.source} "
          f"(vae scaling factor {vae.config.scaling_factor:.6f})")


if __name__ == "__main__":
    main()
