"""train_clip.attribute_targets reads back exactly what each caption states.

  python3 -m pytest training/tests -q
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dataset  # noqa: E402
import train_clip  # noqa: E402

N = 400


def test_targets_name_words_of_the_caption():
    _, captions, truths = dataset.make_split(0, "train", N)
    targets = train_clip.attribute_targets(truths)
    names = list(train_clip.ATTRIBUTES)
    seen = set()
    for caption, truth, row in zip(captions, truths, targets.tolist()):
        if row[0] >= 0:
            assert dataset.COLOUR_NAMES[row[0]] == truth["background"]["colour"], caption
            assert f"{truth['background']['colour']} background" in caption or caption.endswith(truth["background"]["colour"])
        for k, obj in enumerate(truth["objects"]):
            for j, name in enumerate(names):
                value = row[1 + 4 * k + j]
                if value < 0:
                    continue
                word = train_clip.ATTRIBUTES[name][value]
                assert word == obj[name], (caption, name)
                if name == "position":
                    assert any(p in caption for p in dataset.POSITION_PHRASES[word]), caption
                else:
                    assert word in caption.split(), caption
                seen.add(name)
        if row[9] >= 0:
            relation = train_clip.RELATIONS[row[9]]
            (r1, c1), (r2, c2) = (dataset.position_cell(o["position"]) for o in truth["objects"])
            assert {"right": c1 > c2, "left": c1 < c2, "above": r1 < r2, "below": r1 > r2}[relation], caption
            assert any(f" {p} " in caption for p in dataset.REL_PHRASES[relation]), caption
            seen.add("relation")
        else:
            assert len(truth["objects"]) == 1 or "{rel}" not in {t.name: t for t in dataset.TEMPLATES}[truth["template"]].text
    assert seen == set(names) | {"relation"}


def test_unstated_attributes_are_ignored():
    _, captions, truths = dataset.make_split(0, "train", N)
    targets = train_clip.attribute_targets(truths)
    for caption, row in zip(captions, targets.tolist()):
        if "background" not in caption:
            assert row[0] == -100, caption
        if not any(s in caption.split() for s in dataset.SIZES):
            assert row[3] == -100 and row[7] == -100, caption
