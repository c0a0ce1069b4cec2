"""How far apart a text tower puts captions that differ in one attribute: the relative distance
|h(a) - h(b)| / |h(a)| of the last hidden states, token by token, for a position swap, a colour swap
and a shape swap of one caption. The UNet reads every token state through cross-attention, so an
attribute whose swap barely moves the states is one the UNet can hardly follow.

Then how far colour and shape compose: train_clip.composition_error, the relative squared norm of
h(c1,s1) - h(c1,s2) - h(c2,s1) + h(c2,s2) over 256 caption quadruples, when (c1, s1) is a pair seen in
training and when it is a held-out pair. A held-out pair far from what its parts add up to is a caption
the UNet has never seen anything like.

  python3 training/text_probe.py easel-mini/text_encoder      # a CLIPTextModel folder
  python3 training/text_probe.py training/runs/clip_attr/model # or a CLIPModel folder
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch

import models
import train_clip

BASE = "a big red circle in the top left corner on a blue background"
SWAPS = {
    "position": "a big red circle in the bottom right corner on a blue background",
    "colour": "a big green circle in the top left corner on a blue background",
    "shape": "a big red square in the top left corner on a blue background",
}


def text_model(folder: str):
    from transformers import CLIPModel, CLIPTextModel

    with open(os.path.join(folder, "config.json")) as f:
        kind = json.load(f)["architectures"][0]
    if kind == "CLIPModel":
        return CLIPModel.from_pretrained(folder, torch_dtype=torch.float32).text_model.eval()
    return CLIPTextModel.from_pretrained(folder, torch_dtype=torch.float32).eval()


@torch.no_grad()
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("folder")
    args = p.parse_args()
    model, tok = text_model(args.folder), models.tokenizer()
    states = lambda caption: model(input_ids=models.tokenize(tok, [caption])).last_hidden_state[0]
    base = states(BASE)
    n = len(tok(BASE).input_ids)  # the caption's own tokens; the padding after them follows the last one
    for name, caption in SWAPS.items():
        rel = ((base - states(caption)).norm(dim=-1) / base.norm(dim=-1))[:n]
        changed = rel[rel > 0]
        print(f"{name:8s} swap: {changed.min():.2f}-{changed.max():.2f} over the {len(changed)} tokens it changes; "
              f"per token {' '.join(f'{v:.2f}' for v in rel.tolist())}")
    for kind in ("seen", "unseen"):
        captions = train_clip.quadruples(np.random.default_rng(12345), 256, unseen=kind == "unseen")
        error = train_clip.composition_error(model(input_ids=models.tokenize(tok, captions)).last_hidden_state)
        print(f"composition error, {kind} (colour, shape) pairs: {error.item():.4f}")


if __name__ == "__main__":
    main()
