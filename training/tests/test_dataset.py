"""The shapes dataset is deterministic, its ground truth matches its pixels, and its held-out parts stay out.

  python3 -m pytest training/tests -q
"""

import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dataset  # noqa: E402

N = 300


@pytest.fixture(scope="module")
def train():
    return dataset.make_split(0, "train", N)


def test_same_seed_same_images_any_order(train):
    images, captions, truths = train
    again = [dataset.make_example(0, "train", i) for i in (N - 1, 7, 0)]
    for (img, cap, truth), i in zip(again, (N - 1, 7, 0)):
        assert np.array_equal(img, images[i])
        assert cap == captions[i]
        assert json.dumps(truth) == json.dumps(truths[i])


def test_other_seed_other_images(train):
    images, _, _ = train
    other, _, _ = dataset.make_split(1, "train", 20)
    assert sum(np.array_equal(a, b) for a, b in zip(images[:20], other)) < 3


def test_truth_matches_pixels(train):
    images, captions, truths = train
    for img, cap, truth in zip(images, captions, truths):
        bg = np.array(truth["background"]["rgb"], dtype=np.uint8)
        assert truth["caption"] == cap
        differs = np.any(img != bg, axis=-1)
        covered = np.zeros_like(differs)
        for obj in truth["objects"]:
            x0, y0, x1, y1 = obj["bbox"]
            box = np.zeros_like(differs)
            box[y0:y1, x0:x1] = True
            covered |= box
            # the object's exact colour fills a good part of its box and nothing outside it
            exact = np.all(img == np.array(obj["rgb"], dtype=np.uint8), axis=-1)
            assert exact[box].sum() >= 0.5 * obj["area"], (truth, exact[box].sum())
            assert not exact[~box].any() or any(o["rgb"] == obj["rgb"] for o in truth["objects"] if o is not obj)
            # the centroid lies in the named position cell, and the size class shows in the extent
            cx, cy = obj["centroid"]
            assert dataset.cell_of_point(cx, cy) == obj["position"]
            extent = max(x1 - x0, y1 - y0)
            if obj["size"] == "small":
                assert extent <= 2 * dataset.SIZES["small"] + 2
            else:
                assert extent >= 2 * dataset.SIZES["big"] - 4
        # nothing but the background outside the objects' boxes
        assert not differs[~covered].any()


def test_captions_name_the_objects(train):
    _, captions, truths = train
    for cap, truth in zip(captions, truths):
        for obj in truth["objects"]:
            assert f"{obj['colour']} {obj['shape']}" in cap
        if "{bg}" in next(t.text for t in dataset.TEMPLATES if t.name == truth["template"]):
            assert truth["background"]["colour"] in cap


def test_two_object_relations_hold():
    for i in range(400):
        _, cap, truth = dataset.make_example(3, "train", i)
        if len(truth["objects"]) != 2 or truth["template"] in ("two_and",):
            continue
        a, b = truth["objects"]
        (ax, ay), (bx, by) = a["centroid"], b["centroid"]
        if " right of " in cap:
            assert ax > bx
        if " left of " in cap:
            assert ax < bx
        if " above " in cap:
            assert ay < by
        if " below " in cap or " under " in cap:
            assert ay > by


def test_heldout_parts_never_in_training(train):
    _, _, truths = train
    val = dataset.make_split(0, "val", 100)[2]
    for truth in truths + val:
        assert not truth["template_heldout"]
        assert not any(o["heldout_combo"] for o in truth["objects"])
    held = dataset.make_split(0, "heldout", 100)[2]
    for truth in held:
        assert truth["template_heldout"] or any(o["heldout_combo"] for o in truth["objects"])
    assert any(t["template_heldout"] for t in held) and any(o["heldout_combo"] for t in held for o in t["objects"])


def test_coverage_of_attributes(train):
    _, _, truths = train
    objs = [o for t in truths for o in t["objects"]]
    assert {o["shape"] for o in objs} == set(dataset.SHAPES)
    assert {o["colour"] for o in objs} == set(dataset.COLOURS)
    assert {o["position"] for o in objs} == set(dataset.POSITIONS)
    assert {o["size"] for o in objs} == set(dataset.SIZES)
    assert {len(t["objects"]) for t in truths} == {1, 2}
    assert all(o["colour"] != t["background"]["colour"] for t in truths for o in t["objects"])


def test_unknown_split_is_an_error():
    with pytest.raises(ValueError, match="unknown split"):
        dataset.make_example(0, "test", 0)
    with pytest.raises(ValueError, match="non-negative"):
        dataset.make_example(0, "train", -1)
