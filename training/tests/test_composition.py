"""train_clip.quadruples and composition_error: the captions differ only where they should, held-out
pairs appear only when asked for, and the error is zero exactly when colour and shape add up.

  python3 -m pytest training/tests -q
"""

import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dataset  # noqa: E402
import train_clip  # noqa: E402

PAIR = re.compile(r"\b(" + "|".join(dataset.COLOUR_NAMES) + r") (" + "|".join(dataset.SHAPES) + r")\b")


def pairs(caption: str) -> list[tuple[str, str]]:
    # The background colour is never followed by a shape word, so this finds the object's pair only.
    return [m.groups() for m in PAIR.finditer(caption)]


def test_quadruples_swap_only_colour_and_shape():
    captions = train_clip.quadruples(np.random.default_rng(0), 200)
    assert len(captions) == 800
    for k in range(0, len(captions), 4):
        group = captions[k:k + 4]
        found = [pairs(c) for c in group]
        assert all(len(f) == 1 for f in found), group
        (c1, s1), (c1b, s2), (c2, s1b), (c2b, s2b) = (f[0] for f in found)
        assert (c1, s1, s2, c2) == (c1b, s1b, s2b, c2b) and c1 != c2 and s1 != s2, group
        assert not {(c1, s1), (c1, s2), (c2, s1), (c2, s2)} & dataset.HELDOUT_COMBOS, group
        # Apart from the pair (and "a"/"an" before a colour), the four captions are the same words.
        rest = {re.sub(r"\b(an?) ", "", PAIR.sub("X", c)) for c in group}
        assert len(rest) == 1, group


def test_unseen_quadruples_lead_with_a_held_out_pair():
    captions = train_clip.quadruples(np.random.default_rng(1), 100, unseen=True)
    for k in range(0, len(captions), 4):
        firsts = [pairs(c)[0] for c in captions[k:k + 4]]
        assert firsts[0] in dataset.HELDOUT_COMBOS
        assert not set(firsts[1:]) & dataset.HELDOUT_COMBOS


def test_composition_error_is_zero_for_additive_states_only():
    g = torch.Generator().manual_seed(0)
    colour, shape = torch.randn(2, 5, 7, generator=g), torch.randn(2, 5, 7, generator=g)
    additive = torch.stack([colour[i] + shape[j] for i, j in ((0, 0), (0, 1), (1, 0), (1, 1))])
    assert train_clip.composition_error(additive).item() < 1e-10
    bent = additive.clone()
    bent[0] += 0.5
    assert train_clip.composition_error(bent).item() > 0.01
