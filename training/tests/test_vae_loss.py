"""train_vae.edge_map and reconstruction_loss: edges are where the target changes, flat colour has none,
and the edge weight scales only the error there.

  python3 -m pytest training/tests -q
"""

import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import dataset  # noqa: E402
import common  # noqa: E402
import train_vae  # noqa: E402


def test_flat_image_has_no_edges():
    assert train_vae.edge_map(torch.full((2, 3, 16, 16), 0.3)).sum() == 0


def test_edges_ring_a_square_and_skip_its_inside():
    x = torch.full((1, 3, 12, 12), -1.0)
    x[0, 0, 3:9, 3:9] = 1.0  # a red square: only one channel changes
    e = train_vae.edge_map(x)[0, 0]
    assert e[2, 2] == 1 and e[3, 3] == 1 and e[2, 5] == 1  # both sides of the boundary
    assert e[5, 5] == 0 and e[0, 0] == 0  # inside and far outside


def test_edges_of_a_dataset_image_are_a_small_fraction():
    images, _, _ = dataset.make_split(0, "val", 8)
    fraction = train_vae.edge_map(common.images_to_tensor(images)).mean().item()
    assert 0.005 < fraction < 0.2


def test_edge_weight_scales_only_the_error_at_edges():
    x = torch.full((1, 3, 12, 12), -1.0)
    x[0, :, 3:9, 3:9] = 1.0
    edges = train_vae.edge_map(x)
    flat_error = x + 0.1 * (1 - edges)  # error only off the edges
    assert torch.isclose(train_vae.reconstruction_loss(flat_error, x, 10.0),
                         train_vae.reconstruction_loss(flat_error, x, 0.0))
    edge_error = x + 0.1 * edges  # error only on the edges
    plain = train_vae.reconstruction_loss(edge_error, x, 0.0)
    assert torch.isclose(train_vae.reconstruction_loss(edge_error, x, 10.0), 11.0 * plain)
    assert plain > 0
