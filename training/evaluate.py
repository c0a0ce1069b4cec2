"""A quick pixel check of an exported easel-mini on one-object prompts (not the Swift evaluator of issue 5).

  python3 training/evaluate.py --model easel-mini --count 48

For val (or heldout) prompts that name colour, position and background, it draws each image and reads
back from the pixels: the background colour (median of the border, nearest palette colour), the object
colour (median of the pixels far from the background, nearest palette colour) and the object's position
cell (centroid of those pixels). Shape is not judged here. Prints the accuracies as JSON.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

import dataset

FULL = {"one_pos_bg", "one_full", "one_full_b", "one_picture", "one_drawing", "one_there"}
PALETTE = np.array(list(dataset.COLOURS.values()), dtype=np.float32)


def nearest(rgb: np.ndarray) -> str:
    return dataset.COLOUR_NAMES[int(np.argmin(((PALETTE - rgb) ** 2).sum(axis=1)))]


def read_image(img: np.ndarray) -> dict:
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]).astype(np.float32)
    bg = np.median(border, axis=0)
    far = np.sqrt(((img.astype(np.float32) - bg) ** 2).sum(axis=-1)) > 80
    out = {"background": nearest(bg)}
    if far.sum() >= 6:
        ys, xs = np.nonzero(far)
        out["colour"] = nearest(np.median(img[far].astype(np.float32), axis=0))
        out["position"] = dataset.cell_of_point(xs.mean() + 0.5, ys.mean() + 0.5)
    return out


@torch.no_grad()
def main() -> None:
    from diffusers import StableDiffusionPipeline

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default="easel-mini")
    p.add_argument("--split", default="val", choices=["val", "heldout"])
    p.add_argument("--count", type=int, default=48)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--guidance", type=float, default=7.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    pipe = StableDiffusionPipeline.from_pretrained(args.model, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    cases, i = [], 0
    while len(cases) < args.count:
        _, caption, truth = dataset.make_example(args.seed, args.split, i)
        i += 1
        if truth["template"] in FULL and len(truth["objects"]) == 1:
            cases.append((caption, truth))
    right = {"background": 0, "colour": 0, "position": 0}
    for k in range(0, len(cases), 8):
        chunk = cases[k:k + 8]
        g = torch.Generator().manual_seed(args.seed + k)
        imgs = pipe([c for c, _ in chunk], height=64, width=64, num_inference_steps=args.steps,
                    guidance_scale=args.guidance, generator=g, output_type="np").images
        for img, (_, truth) in zip((np.clip(imgs, 0, 1) * 255).round().astype(np.uint8), chunk):
            seen = read_image(img)
            obj = truth["objects"][0]
            right["background"] += seen["background"] == truth["background"]["colour"]
            right["colour"] += seen.get("colour") == obj["colour"]
            right["position"] += seen.get("position") == obj["position"]
    print(json.dumps({"model": args.model, "split": args.split, "images": len(cases), "steps": args.steps,
                      "guidance": args.guidance, **{k: v / len(cases) for k, v in right.items()}}))


if __name__ == "__main__":
    main()
