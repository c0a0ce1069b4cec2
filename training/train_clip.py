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


ATTRIBUTES = {"colour": dataset.COLOUR_NAMES, "shape": dataset.SHAPES, "size": list(dataset.SIZES),
              "position": dataset.POSITIONS}
RELATIONS = list(dataset.REL_PHRASES)


def attribute_targets(truths: list[dict]) -> torch.Tensor:
    """(N, 10) class indices of what each caption states, -100 where it states nothing: background, then
    colour/shape/size/position of objects 1 and 2, then the relation of object 1 to object 2."""
    templates = {t.name: t for t in dataset.TEMPLATES}
    out = torch.full((len(truths), 10), -100, dtype=torch.long)
    for n, truth in enumerate(truths):
        text = templates[truth["template"]].text
        if "{bg}" in text:
            out[n, 0] = dataset.COLOUR_NAMES.index(truth["background"]["colour"])
        for k, obj in enumerate(truth["objects"]):
            suffix = "" if len(truth["objects"]) == 1 else str(k + 1)
            for j, (name, values) in enumerate(ATTRIBUTES.items()):
                field = "{" + ("pos" if name == "position" else name) + suffix + "}"
                if field in text:
                    out[n, 1 + 4 * k + j] = values.index(obj[name])
        if "{rel}" in text:
            caption = truth["caption"]
            # Longest phrases first: "to the left of" also contains "left of".
            phrases = sorted(((p, r) for r, ps in dataset.REL_PHRASES.items() for p in ps), key=lambda x: -len(x[0]))
            out[n, 9] = RELATIONS.index(next(r for p, r in phrases if f" {p} " in caption))
    return out


ONE_OBJECT_TEMPLATES = [t for t in dataset.TEMPLATES if t.objects == 1 and not t.heldout]


def quadruples(rng: np.random.Generator, count: int, unseen: bool = False) -> list[str]:
    """`count` groups of four one-object captions, the same but for the object's (colour, shape): (c1, s1),
    (c1, s2), (c2, s1), (c2, s2), with training templates. The last three pairs are always seen in
    training; the first is too, unless `unseen`, when it is one of the held-out pairs (for measuring only)."""
    out = []
    while len(out) < 4 * count:
        template = dataset._pick(rng, ONE_OBJECT_TEMPLATES)
        bg = dataset._pick(rng, dataset.COLOUR_NAMES)
        c1, c2 = rng.choice([c for c in dataset.COLOUR_NAMES if c != bg], 2, replace=False).tolist()
        s1, s2 = rng.choice(dataset.SHAPES, 2, replace=False).tolist()
        if ((c1, s1) in dataset.HELDOUT_COMBOS) != unseen or {(c1, s2), (c2, s1), (c2, s2)} & dataset.HELDOUT_COMBOS:
            continue
        size = dataset._pick(rng, list(dataset.SIZES))
        pos = dataset._pick(rng, dataset.POSITION_PHRASES[dataset._pick(rng, dataset.POSITIONS)])
        for colour, shape in ((c1, s1), (c1, s2), (c2, s1), (c2, s2)):
            lead = size if "{a} {size}" in template.text else colour
            out.append(template.text.format(a=dataset._article(lead), size=size, colour=colour, shape=shape,
                                            pos=pos, bg=bg, abg=dataset._article(bg)))
    return out


def composition_error(states: torch.Tensor) -> torch.Tensor:
    """Per group of four captions' last hidden states (4N, T, D) from `quadruples`: the squared norm of
    h(c1,s1) - h(c1,s2) - h(c2,s1) + h(c2,s2), relative to the mean squared norm of the states, averaged.
    Zero when colour and shape add up independently in every token state."""
    h = states.reshape(-1, 4, *states.shape[1:])
    d = h[:, 0] - h[:, 1] - h[:, 2] + h[:, 3]
    return (d.pow(2).sum(-1).mean(-1) / h.pow(2).sum(-1).mean((1, 2))).mean()


class AttributeHead(torch.nn.Module):
    """Reads the stated attributes back from the text tower: from the <|endoftext|> state and from the mean
    of all token states (the UNet attends to every token), with one shared linear map. Contrastive CLIP
    alone learns to tell colours and shapes apart but barely positions (the hidden states of "top left" and
    "bottom right" captions differed by 4-23% at the position tokens): this loss makes the text
    tower spell out every attribute its caption states. Used in training only; not exported."""

    def __init__(self, width: int):
        super().__init__()
        self.sizes = [len(dataset.COLOUR_NAMES)] + [len(v) for v in ATTRIBUTES.values()] * 2 + [len(RELATIONS)]
        self.linear = torch.nn.Linear(width, sum(self.sizes))

    def loss(self, text_out, targets: torch.Tensor) -> torch.Tensor:
        total = 0.0
        for features in (text_out.pooler_output, text_out.last_hidden_state.mean(dim=1)):
            for j, logits in enumerate(self.linear(features).split(self.sizes, dim=1)):
                if (targets[:, j] >= 0).any():
                    total = total + F.cross_entropy(logits, targets[:, j], ignore_index=-100)
        return total / 2


@torch.no_grad()
def probe_composition(model, probe: dict) -> dict:
    """composition_error on fixed quadruples whose first pair is seen in training, and on ones whose first
    pair is held out: how far a held-out (colour, shape) caption is from what its parts add up to."""
    model.eval()
    out = {f"composition_{kind}": composition_error(model.text_model(input_ids=ids).last_hidden_state).item()
           for kind, ids in probe.items()}
    model.train()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    common.add_common_args(p, default_minutes=30)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--run", default="clip", help="run folder under runs/")
    p.add_argument("--init-from", help="start from this CLIPModel folder (e.g. runs/clip/model) instead of random weights")
    p.add_argument("--attribute-weight", type=float, default=0.0,
                   help="weight of the AttributeHead loss added to the contrastive loss (0: plain CLIP)")
    p.add_argument("--composition-weight", type=float, default=0.0,
                   help="weight of composition_error over --composition-batch caption quadruples (0: none)")
    p.add_argument("--composition-batch", type=int, default=32)
    args = p.parse_args()
    common.setup(args.seed, args.threads)
    run = common.Run(args.run, args)

    images, captions, truths = common.train_data(args)
    tok = models.tokenizer()
    ids = models.tokenize(tok, captions)
    val_images, val_captions, _ = dataset.make_split(args.data_seed, "val", 256)
    val_pixels, val_ids = common.images_to_tensor(val_images), models.tokenize(tok, val_captions)

    if args.init_from:
        from transformers import CLIPModel
        model = CLIPModel.from_pretrained(args.init_from)
    else:
        model = models.make_clip()
    head = AttributeHead(model.config.text_config.hidden_size)
    source = os.path.join(os.path.dirname(os.path.normpath(args.init_from)), "checkpoint.pt") if args.init_from else None
    if source and os.path.exists(source) and args.attribute_weight:
        head.load_state_dict(torch.load(source, map_location="cpu", weights_only=False)["head"])  # our own run's
    targets = attribute_targets(truths)
    params = list(model.parameters()) + (list(head.parameters()) if args.attribute_weight else [])
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay, betas=(0.9, 0.98))
    step, history = 0, []
    probe_rng = np.random.default_rng(12345)  # the same quadruples at every report
    probe = {kind: models.tokenize(tok, quadruples(probe_rng, 64, unseen=kind == "unseen")) for kind in ("seen", "unseen")}
    # Not in the checkpoint: a resumed run draws its quadruples afresh from here (clip_comp ran in one go).
    quad_rng = np.random.default_rng([args.seed, 7])
    state = run.load()
    if state:
        model.load_state_dict(state["model"])
        head.load_state_dict(state["head"])
        opt.load_state_dict(state["opt"])
        step, history = state["step"], state["history"]
        run.log(f"resumed at step {step}; args {vars(args)}")
    else:
        run.log(f"clip params: text {models.count(model.text_model)}, vision {models.count(model.vision_model)}, "
                f"total {models.count(model)}; args {vars(args)}")

    def checkpoint():
        run.save({"model": model.state_dict(), "head": head.state_dict(), "opt": opt.state_dict(), "step": step, "history": history})
        model.save_pretrained(os.path.join(run.dir, "model"))

    model.train()
    t0, losses, attr_losses, comp_losses = time.time(), [], [], []
    while step < args.max_steps and not run.out_of_time():
        for g in opt.param_groups:
            g["lr"] = common.lr_at(step, args.lr, args.warmup)
        batch = np.random.randint(0, len(captions), size=args.batch)
        out = model(input_ids=ids[batch], pixel_values=common.images_to_tensor(images[batch]), return_loss=True)
        loss = out.loss
        if args.attribute_weight:
            attr = head.loss(out.text_model_output, targets[batch])
            loss = loss + args.attribute_weight * attr
            attr_losses.append(attr.item())
        if args.composition_weight:
            quads = models.tokenize(tok, quadruples(quad_rng, args.composition_batch))
            comp = composition_error(model.text_model(input_ids=quads).last_hidden_state)
            loss = loss + args.composition_weight * comp
            comp_losses.append(comp.item())
        opt.zero_grad(set_to_none=True)
        loss.backward()
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
            if attr_losses:
                row["attribute_loss"] = float(np.mean(attr_losses))
            if comp_losses:
                row["composition_loss"] = float(np.mean(comp_losses))
            if step % 100 == 0:
                row.update(probe_composition(model, probe))
            history.append(row)
            run.record(row)
            run.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
            t0, losses, attr_losses, comp_losses = time.time(), [], [], []
        if run.due():
            checkpoint()
    checkpoint()
    run.log(f"stopped at step {step}")


if __name__ == "__main__":
    main()
