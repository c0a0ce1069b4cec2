"""What the three trainers share: seeding, data, checkpoints that resume exactly, logging, time budgets."""

from __future__ import annotations

import json
import os
import random
import time

import numpy as np
import torch

import dataset

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = os.environ.get("EASEL_MINI_RUNS", os.path.join(HERE, "runs"))  # override for dry runs
DATA = os.path.join(HERE, "data")


def add_common_args(p, default_minutes: float) -> None:
    p.add_argument("--seed", type=int, default=0, help="training seed (init, batches, noise)")
    p.add_argument("--data-seed", type=int, default=0, help="dataset seed")
    p.add_argument("--train-count", type=int, default=20000, help="training images")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--minutes", type=float, default=default_minutes, help="stop (with a checkpoint) after this wall time")
    p.add_argument("--max-steps", type=int, default=10**9)
    p.add_argument("--checkpoint-minutes", type=float, default=4.0)
    p.add_argument("--resume", action="store_true", help="continue from <run>/checkpoint.pt")


def setup(seed: int, threads: int) -> None:
    torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_data(args):
    return dataset.load_or_make(os.path.join(DATA, "train.npz"), args.data_seed, "train", args.train_count)


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N,H,W,3) -> float (N,3,H,W) in [-1, 1], as SD's VAE expects."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


class Run:
    """A run folder: log.txt (appended), checkpoint.pt (atomic), losses.jsonl."""

    def __init__(self, name: str, args):
        self.dir = os.path.join(RUNS, name)
        os.makedirs(self.dir, exist_ok=True)
        self.ckpt = os.path.join(self.dir, "checkpoint.pt")
        self.args = args
        self.start = time.time()
        self.last_save = time.time()

    def log(self, msg: str) -> None:
        line = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) + " " + msg
        print(line, flush=True)

    def record(self, row: dict) -> None:
        with open(os.path.join(self.dir, "losses.jsonl"), "a") as f:
            f.write(json.dumps(row) + "\n")

    def save(self, state: dict) -> None:
        state = dict(state)
        state["rng"] = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
        tmp = self.ckpt + ".tmp"
        torch.save(state, tmp)
        os.replace(tmp, self.ckpt)
        self.last_save = time.time()

    def load(self) -> dict | None:
        if not (self.args.resume and os.path.exists(self.ckpt)):
            return None
        state = torch.load(self.ckpt, weights_only=False)
        rng = state["rng"]
        torch.set_rng_state(rng["torch"])
        np.random.set_state(rng["numpy"])
        random.setstate(rng["python"])
        return state

    def due(self) -> bool:
        return time.time() - self.last_save > self.args.checkpoint_minutes * 60

    def out_of_time(self) -> bool:
        """Past --minutes, or asked to stop by creating <run>/STOP (removed on the way out)."""
        stop = os.path.join(self.dir, "STOP")
        if os.path.exists(stop):
            os.remove(stop)
            return True
        return time.time() - self.start > self.args.minutes * 60


def lr_at(step: int, base: float, warmup: int) -> float:
    return base * min(1.0, (step + 1) / warmup)
