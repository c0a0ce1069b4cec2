"""Stage (a): a mini CLIPModel (text tower + vision tower) trained contrastively on the shapes dataset.

  nice -n 19 python3 training/train_clip.py [--resume] > training/runs/clip/log.txt 2>&1
Writes training/runs/clip/checkpoint.pt (resumable) and training/runs/clip/model/ (CLIPModel.save_pretrained).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import common
import dataset
import models


@torch.no_grad()
def evaluate(model, pixels: torch.Tensor, ids: torch.Tensor) -> tuple[float, float]:
    """Contrastive loss and image->text top-1 accuracy over one held-back batch (duplicate captions count as right)."""
    model.eval()
    out = model(input_ids=ids, pixel_values=pixels, return_loss=True)
    model.train()
    pred = out.logits_per_image.argmax(dim=1)
    right = (ids[pred] == ids).all(dim=1).float().mean().item()
    return out.loss.item(), right


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    common.add_common_args(p, default_minutes=30)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.05)
    args = p.parse_args()
    common.setup(args.seed, args.threads)
    run = common.Run("clip", args)

    images, captions, _ = common.train_data(args)
    tok = models.tokenizer()
    ids = models.tokenize(tok, captions)
    val_images, val_captions, _ = dataset.make_split(args.data_seed, "val", 256)
    val_pixels, val_ids = common.images_to_tensor(val_images), models.tokenize(tok, val_captions)

    model = models.make_clip()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay, betas=(0.9, 0.98))
    step, history = 0, []
    state = run.load()
    if state:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, history = state["step"], state["history"]
        run.log(f"resumed at step {step}")
    else:
        run.log(f"clip params: text {models.count(model.text_model)}, vision {models.count(model.vision_model)}, "
                f"total {models.count(model)}; args {vars(args)}")

    def checkpoint():
        run.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "history": history})
        model.save_pretrained(os.path.join(run.dir, "model"))

    model.train()
    t0, losses = time.time(), []
    while step < args.max_steps and not run.out_of_time():
        for g in opt.param_groups:
            g["lr"] = common.lr_at(step, args.lr, args.warmup)
        batch = np.random.randint(0, len(captions), size=args.batch)
        out = model(input_ids=ids[batch], pixel_values=common.images_to_tensor(images[batch]), return_loss=True)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, 4.6052)  # temperature at most 100, as CLIP
        losses.append(out.loss.item())
        step += 1
        if step % 25 == 0:
            vl, acc = evaluate(model, val_pixels, val_ids)
            row = {"step": step, "loss": float(np.mean(losses)), "val_loss": vl, "val_i2t_top1": acc,
                   "logit_scale": model.logit_scale.exp().item(), "sec_per_step": (time.time() - t0) / len(losses)}
            history.append(row)
            run.record(row)
            run.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
            t0, losses = time.time(), []
        if run.due():
            checkpoint()
    checkpoint()
    run.log(f"stopped at step {step}")


if __name__ == "__main__":
    main()
