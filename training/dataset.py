"""Synthetic captioned shapes: the training data of easel-mini.

Every image is a plain background with one or two flat-coloured shapes; every
image comes with a caption and a JSON ground truth (shape, colour, size,
position cell, bounding box, pixel area of each object), so image quality can be
measured without a human.

Determinism: image `i` of split `s` is drawn from a NumPy generator seeded with
(seed, split id, i) alone, so any image can be regenerated on its own, in any
order, on any machine.

Held out from training (they only appear in the `heldout` split):
  * caption templates marked `heldout=True` below;
  * six (colour, shape) combinations, `HELDOUT_COMBOS`.
The `val` split has the training distribution with different seeds.

CLI:
  python training/dataset.py --split train --count 20000 --out training/data
writes training/data/train.npz (uint8 images, captions, JSON ground truths)
and, with --png N, the first N images as PNG next to their JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

IMAGE_SIZE = 64
SUPERSAMPLE = 4  # shapes are drawn at 4x and box-filtered down: smooth edges, exact interiors

# Eight colours far apart in RGB and in name; values are what the pixels hold.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 170, 50),
    "blue": (30, 70, 230),
    "yellow": (245, 220, 30),
    "purple": (140, 50, 190),
    "orange": (250, 140, 20),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
}
COLOUR_NAMES = list(COLOURS)

SHAPES = ["circle", "square", "triangle", "star", "heart", "cross"]

# Radius (half the extent) in pixels of the 64x64 image.
SIZES: dict[str, float] = {"small": 7.0, "big": 13.0}

# 3x3 grid of position cells; centre of each cell as a fraction of the side.
GRID = (0.22, 0.5, 0.78)
ROW_NAMES = ("top", "middle", "bottom")
COL_NAMES = ("left", "centre", "right")
POSITIONS = [
    "top left", "top", "top right",
    "left", "centre", "right",
    "bottom left", "bottom", "bottom right",
]

# (colour, shape) pairs never seen in training.
HELDOUT_COMBOS = {
    ("red", "star"), ("green", "heart"), ("blue", "triangle"),
    ("yellow", "cross"), ("purple", "circle"), ("orange", "square"),
}

SPLIT_IDS = {"train": 0, "val": 1, "heldout": 2}


def position_cell(name: str) -> tuple[int, int]:
    """(row, col) of a position name."""
    i = POSITIONS.index(name)
    return i // 3, i % 3


def position_centre(name: str) -> tuple[float, float]:
    """(x, y) pixel centre of a position cell."""
    row, col = position_cell(name)
    return GRID[col] * IMAGE_SIZE, GRID[row] * IMAGE_SIZE


def cell_of_point(x: float, y: float) -> str:
    """Position name of the cell (thirds of the image) a point falls in."""
    col = min(2, max(0, int(x * 3 // IMAGE_SIZE)))
    row = min(2, max(0, int(y * 3 // IMAGE_SIZE)))
    return POSITIONS[row * 3 + col]


# --- shape outlines, in units of the radius, centred on the origin, y down ---

def _star(points: int = 5, inner: float = 0.45) -> list[tuple[float, float]]:
    out = []
    for k in range(points * 2):
        r = 1.0 if k % 2 == 0 else inner
        a = -math.pi / 2 + k * math.pi / points
        out.append((r * math.cos(a), r * math.sin(a)))
    return out


def _heart(n: int = 64) -> list[tuple[float, float]]:
    pts = []
    for k in range(n):
        t = 2 * math.pi * k / n
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((x, -y))
    # fit into [-1, 1]: the curve spans x in [-16, 16], y in [-12, 17] (after flipping)
    ys = [p[1] for p in pts]
    cy = (max(ys) + min(ys)) / 2
    scale = max(16.0, (max(ys) - min(ys)) / 2)
    return [(x / scale, (y - cy) / scale) for x, y in pts]


_TRIANGLE = [(0.0, -1.0), (0.95, 0.75), (-0.95, 0.75)]
_STAR = _star()
_HEART = _heart()
_SQUARE_HALF = 0.82
_CROSS_ARM = 0.32


def shape_mask(shape: str, cx: float, cy: float, radius: float) -> np.ndarray:
    """Coverage in [0, 1] of a shape on the IMAGE_SIZE grid (box-filtered supersampling)."""
    s = SUPERSAMPLE
    big = Image.new("L", (IMAGE_SIZE * s, IMAGE_SIZE * s), 0)
    d = ImageDraw.Draw(big)
    X, Y, R = cx * s, cy * s, radius * s

    def poly(points):
        d.polygon([(X + px * R, Y + py * R) for px, py in points], fill=255)

    if shape == "circle":
        d.ellipse([X - R, Y - R, X + R, Y + R], fill=255)
    elif shape == "square":
        h = _SQUARE_HALF * R
        d.rectangle([X - h, Y - h, X + h, Y + h], fill=255)
    elif shape == "triangle":
        poly(_TRIANGLE)
    elif shape == "star":
        poly(_STAR)
    elif shape == "heart":
        poly(_HEART)
    elif shape == "cross":
        a = _CROSS_ARM * R
        d.rectangle([X - a, Y - R, X + a, Y + R], fill=255)
        d.rectangle([X - R, Y - a, X + R, Y + a], fill=255)
    else:
        raise ValueError(f"unknown shape {shape!r}")
    m = np.asarray(big, dtype=np.float32) / 255.0
    return m.reshape(IMAGE_SIZE, s, IMAGE_SIZE, s).mean(axis=(1, 3))


# --- captions ---

def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


POSITION_PHRASES = {
    "top left": ["in the top left corner", "at the top left", "in the upper left"],
    "top": ["at the top", "at the top centre", "in the upper middle"],
    "top right": ["in the top right corner", "at the top right", "in the upper right"],
    "left": ["on the left", "at the left side", "in the middle left"],
    "centre": ["in the centre", "in the middle", "at the center"],
    "right": ["on the right", "at the right side", "in the middle right"],
    "bottom left": ["in the bottom left corner", "at the bottom left", "in the lower left"],
    "bottom": ["at the bottom", "at the bottom centre", "in the lower middle"],
    "bottom right": ["in the bottom right corner", "at the bottom right", "in the lower right"],
}


@dataclass(frozen=True)
class Template:
    name: str
    objects: int
    text: str
    heldout: bool = False


# Fields: {a} article of the first word, {size}, {colour}, {shape}, {pos}, {bg};
# for two objects {a1} {size1} {colour1} {shape1} {a2} ... and {rel}.
TEMPLATES = [
    Template("one_bg", 1, "{a} {colour} {shape} on {abg} {bg} background"),
    Template("one_size_bg", 1, "{a} {size} {colour} {shape} on {abg} {bg} background"),
    Template("one_pos_bg", 1, "{size} {colour} {shape} {pos}, {bg} background"),
    Template("one_full", 1, "{a} {size} {colour} {shape} {pos} on {abg} {bg} background"),
    Template("one_full_b", 1, "{bg} background with {a} {size} {colour} {shape} {pos}"),
    Template("one_plain", 1, "{a} {colour} {shape}"),
    Template("one_pos", 1, "{a} {colour} {shape} {pos}"),
    Template("one_picture", 1, "a picture of {a} {size} {colour} {shape} {pos}, the background is {bg}"),
    Template("one_drawing", 1, "a drawing of {a} {colour} {shape} {pos} on {bg}", heldout=True),
    Template("one_there", 1, "there is {a} {size} {colour} {shape} {pos} and the background is {bg}", heldout=True),
    Template("two_rel_bg", 2, "{a1} {size1} {colour1} {shape1} {rel} {a2} {size2} {colour2} {shape2} on {abg} {bg} background"),
    Template("two_rel", 2, "{a1} {colour1} {shape1} {rel} {a2} {colour2} {shape2}"),
    Template("two_and", 2, "{a1} {colour1} {shape1} {pos1} and {a2} {colour2} {shape2} {pos2}, {bg} background"),
    Template("two_bg_first", 2, "{bg} background, {size1} {colour1} {shape1} {rel} {size2} {colour2} {shape2}"),
    Template("two_with", 2, "{a1} {colour1} {shape1} with {a2} {colour2} {shape2} {rel2} it on {abg} {bg} background", heldout=True),
]

REL_PHRASES = {
    "right": ["to the right of", "right of"],
    "left": ["to the left of", "left of"],
    "above": ["above"],
    "below": ["below", "under"],
}


def relation(first: str, second: str, rng: np.random.Generator) -> str:
    """A spatial relation that holds of object 1 with respect to object 2."""
    r1, c1 = position_cell(first)
    r2, c2 = position_cell(second)
    options = []
    if c1 > c2:
        options.append("right")
    if c1 < c2:
        options.append("left")
    if r1 < r2:
        options.append("above")
    if r1 > r2:
        options.append("below")
    return options[int(rng.integers(len(options)))]


def _converse(rel: str) -> str:
    return {"right": "left", "left": "right", "above": "below", "below": "above"}[rel]


# --- scenes ---

def _pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def _fits(objs: list[dict]) -> bool:
    """Two objects do not touch: their extents are apart in x or in y by a margin."""
    if len(objs) < 2:
        return True
    a, b = objs
    xa, ya = position_centre(a["position"])
    xb, yb = position_centre(b["position"])
    gap = SIZES[a["size"]] + SIZES[b["size"]] + 2.0
    return abs(xa - xb) >= gap or abs(ya - yb) >= gap


def sample_scene(rng: np.random.Generator, split: str) -> tuple[list[dict], str, Template, dict]:
    """Objects, background colour, template and caption fields for one image."""
    if split not in SPLIT_IDS:
        raise ValueError(f"unknown split {split!r}")
    if split == "heldout":
        # Half the held-out images use a held-out template, half a held-out combination (some both).
        use_template = bool(rng.integers(2))
        use_combo = not use_template or bool(rng.integers(2))
    else:
        use_template = use_combo = False
    pool = [t for t in TEMPLATES if t.heldout] if use_template else [t for t in TEMPLATES if not t.heldout]
    template = _pick(rng, pool)
    while True:
        bg = _pick(rng, COLOUR_NAMES)
        objs = []
        for _ in range(template.objects):
            colour = _pick(rng, [c for c in COLOUR_NAMES if c != bg])
            objs.append({
                "shape": _pick(rng, SHAPES),
                "colour": colour,
                "size": _pick(rng, list(SIZES)),
                "position": _pick(rng, POSITIONS),
            })
        if len(objs) == 2 and (objs[0]["position"] == objs[1]["position"] or not _fits(objs)):
            continue
        combos = {(o["colour"], o["shape"]) for o in objs}
        has_heldout = bool(combos & HELDOUT_COMBOS)
        if split == "heldout" and use_combo and not has_heldout:
            continue
        if split != "heldout" and has_heldout:
            continue
        break
    fields = {"bg": bg, "abg": _article(bg)}
    for k, o in enumerate(objs, start=1):
        lead = o["size"] if "{a} {size}" in template.text or f"{{a{k}}} {{size{k}}}" in template.text else o["colour"]
        suffix = "" if template.objects == 1 else str(k)
        fields["a" + suffix] = _article(lead)
        fields["size" + suffix] = o["size"]
        fields["colour" + suffix] = o["colour"]
        fields["shape" + suffix] = o["shape"]
        fields["pos" + suffix] = _pick(rng, POSITION_PHRASES[o["position"]])
    if template.objects == 2:
        rel = relation(objs[0]["position"], objs[1]["position"], rng)
        fields["rel"] = _pick(rng, REL_PHRASES[rel])
        fields["rel2"] = _pick(rng, REL_PHRASES[_converse(rel)])
    return objs, bg, template, fields


def render(objs: list[dict], bg: str) -> tuple[np.ndarray, list[dict]]:
    """RGB uint8 image and per-object pixel facts (bbox, area, centroid)."""
    img = np.empty((IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.float32)
    img[:] = COLOURS[bg]
    facts = []
    for o in objs:
        cx, cy = position_centre(o["position"])
        m = shape_mask(o["shape"], cx, cy, SIZES[o["size"]])
        img = img * (1.0 - m[..., None]) + np.asarray(COLOURS[o["colour"]], np.float32) * m[..., None]
        ys, xs = np.nonzero(m > 0)
        facts.append({
            "bbox": [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1],
            "area": round(float(m.sum()), 2),
            "centroid": [round(float((m.sum(0) * np.arange(IMAGE_SIZE)).sum() / m.sum()) + 0.5, 2),
                         round(float((m.sum(1) * np.arange(IMAGE_SIZE)).sum() / m.sum()) + 0.5, 2)],
        })
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), facts


def make_example(seed: int, split: str, index: int) -> tuple[np.ndarray, str, dict]:
    """Image `index` of `split`: (uint8 HxWx3 image, caption, ground truth dict)."""
    if split not in SPLIT_IDS:
        raise ValueError(f"unknown split {split!r}: expected one of {list(SPLIT_IDS)}")
    if index < 0:
        raise ValueError(f"image index must be non-negative, got {index}")
    rng = np.random.default_rng([seed, SPLIT_IDS[split], index])
    objs, bg, template, fields = sample_scene(rng, split)
    image, facts = render(objs, bg)
    caption = template.text.format(**fields)
    # Ten percent of training captions are dropped by the UNet trainer, not here.
    truth = {
        "split": split,
        "index": index,
        "seed": seed,
        "image_size": IMAGE_SIZE,
        "caption": caption,
        "template": template.name,
        "template_heldout": template.heldout,
        "background": {"colour": bg, "rgb": list(COLOURS[bg])},
        "objects": [
            {**o, "rgb": list(COLOURS[o["colour"]]), **f,
             "heldout_combo": (o["colour"], o["shape"]) in HELDOUT_COMBOS}
            for o, f in zip(objs, facts)
        ],
    }
    return image, caption, truth


def make_split(seed: int, split: str, count: int, start: int = 0):
    """Images (N,H,W,3 uint8), captions and ground truths of a contiguous range."""
    images = np.empty((count, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    captions, truths = [], []
    for k in range(count):
        images[k], c, t = make_example(seed, split, start + k)
        captions.append(c)
        truths.append(t)
    return images, captions, truths


def load_or_make(path: str, seed: int, split: str, count: int):
    """Cached split: load `path` (an .npz written by `main`) or make it and write it."""
    if os.path.exists(path):
        z = np.load(path, allow_pickle=False)
        if int(z["seed"]) == seed and len(z["captions"]) >= count:
            truths = [json.loads(s) for s in z["truths"][:count]]
            return z["images"][:count], [str(c) for c in z["captions"][:count]], truths
    images, captions, truths = make_split(seed, split, count)
    save(path, seed, images, captions, truths)
    return images, captions, truths


def save(path: str, seed: int, images, captions, truths) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez_compressed(tmp, seed=np.int64(seed), images=images, captions=np.array(captions),
                        truths=np.array([json.dumps(t) for t in truths]))
    os.replace(tmp, path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", choices=list(SPLIT_IDS), default="train")
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
    p.add_argument("--png", type=int, default=0, help="also write the first N images as PNG + JSON")
    args = p.parse_args()
    images, captions, truths = make_split(args.seed, args.split, args.count)
    save(os.path.join(args.out, f"{args.split}.npz"), args.seed, images, captions, truths)
    if args.png:
        d = os.path.join(args.out, f"{args.split}_png")
        os.makedirs(d, exist_ok=True)
        for k in range(min(args.png, args.count)):
            Image.fromarray(images[k]).save(os.path.join(d, f"{k:05d}.png"))
            with open(os.path.join(d, f"{k:05d}.json"), "w") as f:
                json.dump(truths[k], f, indent=1)
    print(f"wrote {args.count} {args.split} images to {args.out}")


if __name__ == "__main__":
    main()
