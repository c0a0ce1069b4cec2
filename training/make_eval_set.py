"""The evaluation sets that ship with easel-mini: real dataset images with their captions and ground truth.

  python3 training/make_eval_set.py --out easel-mini/eval      # val + heldout, 300 images each

`easel eval images` draws the held-out captions and compares the drawings with these real images
(attribute accuracy, CLIP similarity, Fréchet distance of CLIP image features); the Swift tests check
the attribute analyser against the ground truth of both sets. Each set is two files:
  <split>.jsonl  one ground truth per line (dataset.make_example's dict, plus "stated": the attributes
                 the caption names, so a drawing is only judged on what it was asked for; and for two
                 objects "relation": {"subject", "object", "relation"}, the object indices and the
                 relation the caption states: left, right, above or below);
  <split>.png    the images as a sheet of 64x64 tiles, 20 per row, tile k = line k.
Written with numpy 2.4.6 and pillow 13.0.0 (training/requirements.txt); deterministic from --seed.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from PIL import Image

import dataset

PER_ROW = 20


def stated(template: dataset.Template) -> list[str]:
    """Attributes a caption of this template names (colour and shape always)."""
    text = template.text
    names = ["colour", "shape"]
    if "{size" in text:
        names.append("size")
    if "{pos" in text:
        names.append("position")
    if "{bg}" in text:
        names.append("background")
    if "{rel" in text:
        names.append("relation")
    return names


def stated_relation(truth: dict) -> dict | None:
    """The spatial relation a two-object caption states (two_with says it of the second object)."""
    if len(truth["objects"]) != 2:
        return None
    caption = f" {truth['caption']} "
    for name, phrases in dataset.REL_PHRASES.items():
        if any(f" {phrase} " in caption for phrase in phrases):
            subject = 1 if truth["template"] == "two_with" else 0
            return {"subject": subject, "object": 1 - subject, "relation": name}
    return None  # two_and names both positions instead


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)  # not the training seed (0): other val/held-out images
    args = p.parse_args()
    templates = {t.name: t for t in dataset.TEMPLATES}
    os.makedirs(args.out, exist_ok=True)
    for split in ("val", "heldout"):
        images, _, truths = dataset.make_split(args.seed, split, args.count)
        rows = (args.count + PER_ROW - 1) // PER_ROW
        size = dataset.IMAGE_SIZE
        sheet = np.zeros((rows * size, PER_ROW * size, 3), dtype=np.uint8)
        for k, image in enumerate(images):
            r, c = divmod(k, PER_ROW)
            sheet[r * size:(r + 1) * size, c * size:(c + 1) * size] = image
        Image.fromarray(sheet).save(os.path.join(args.out, f"{split}.png"), optimize=True)
        with open(os.path.join(args.out, f"{split}.jsonl"), "w") as f:
            for t in truths:
                t = {**t, "stated": stated(templates[t["template"]])}
                if (rel := stated_relation(t)) is not None:
                    t["relation"] = rel
                f.write(json.dumps(t, separators=(",", ":")) + "\n")
        ones = sum(len(t["objects"]) == 1 for t in truths)
        print(f"{split}: {args.count} images ({ones} with one object), sheet {sheet.shape[1]}x{sheet.shape[0]}")


if __name__ == "__main__":
    main()
