"""Does the UNet draw a held-out colour-shape pair when its text states are what the parts add up to?

For each (colour c, shape s, other shape s2, other colour c2) below, draws six seeds of "a big {c} {s} on a white
background" from the caption itself and from h(c s2) + h(c2 s) - h(c2 s2), the sum of captions with seen
pairs, and writes the two rows per pair into one picture (read it by eye). If the sum draws the pair and the
caption does not, the text tower, not the UNet, is what fails the pair (easel-mini/MODEL_CARD.md).

  python3 training/compose_probe.py easel-mini /tmp/compose.png
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from PIL import Image

import models

PAIRS = [("red", "star", "circle", "blue"), ("green", "heart", "circle", "blue"), ("purple", "circle", "square", "white")]
CAPTION = "a big {} {} on a {} background"


@torch.no_grad()
def main() -> None:
    from diffusers import StableDiffusionPipeline

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--guidance", type=float, default=2.0)
    args = p.parse_args()
    torch.set_num_threads(2)
    pipe = StableDiffusionPipeline.from_pretrained(args.model, torch_dtype=torch.float32, safety_checker=None)
    pipe.set_progress_bar_config(disable=True)
    states = lambda caption: pipe.text_encoder(models.tokenize(pipe.tokenizer, [caption])).last_hidden_state
    empty = states("")
    rows = []
    for colour, shape, other_shape, other_colour in PAIRS:
        bg = "white" if colour != "white" else "black"
        summed = (states(CAPTION.format(colour, other_shape, bg)) + states(CAPTION.format(other_colour, shape, bg))
                  - states(CAPTION.format(other_colour, other_shape, bg)))
        for embeds in (states(CAPTION.format(colour, shape, bg)), summed):
            images = [pipe(prompt_embeds=embeds, negative_prompt_embeds=empty, guidance_scale=args.guidance,
                           num_inference_steps=20, generator=torch.Generator().manual_seed(seed), height=64, width=64,
                           output_type="np").images[0] for seed in range(6)]
            rows.append(np.concatenate(images, axis=1))
    grid = (np.clip(np.concatenate(rows, axis=0), 0, 1) * 255).round().astype(np.uint8)
    Image.fromarray(grid).save(args.out)


if __name__ == "__main__":
    main()
