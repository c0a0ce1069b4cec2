"""Stage (b): a mini AutoencoderKL (64x64x3 <-> 16x16x4) trained with reconstruction + KL loss.

  nice -n 19 python3 training/train_vae.py [--resume] > training/runs/vae/log.txt 2>&1
Loss per image: mean |x - x'| + mean (x - x')^2 + kl_weight * KL(q(z|x) || N(0, I)) summed over the latent.
SD's VAE adds LPIPS and a patch GAN; flat shapes need neither. The scaling factor (SD v1's recipe,
1 / std of the latents) is measured and written into the config by train_unet.py when it snapshots the VAE.
Writes training/runs/vae/checkpoint.pt (resumable) and training/runs/vae/model/ (save_pretrained).

With --decoder-only (run folder runs/vae_decoder/) it starts from the VAE the UNet was trained against
(--init-from, default runs/unet/frozen/vae), freezes the encoder and trains only the decoder on
reconstruction loss, as SD's fine-tuned decoders were made: the latent space stays the UNet's, the pictures
get sharper.

--edge-weight W multiplies the reconstruction error at the target's edges (pixels whose 3x3 neighbourhood
spans more than EDGE_RANGE in some channel) by 1 + W. A shape's class is decided by a few edge pixels (a
small star's points, a heart's notch) that a whole-image mean barely sees: with the plain loss the stage (b')
decoder rounded small stars and hearts into circles, so that the scene analyser read only 85.5% of the
one-object validation shapes back from reconstructions of real images.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

import common
import dataset
import models


EDGE_RANGE = 0.1  # in the [-1, 1] pixel scale: 13 of 255; the flat colours of the dataset have none inside


def edge_map(x: torch.Tensor) -> torch.Tensor:
    """1 where a pixel's 3x3 neighbourhood spans more than EDGE_RANGE in some channel, else 0 (N,1,H,W)."""
    hi = torch.nn.functional.max_pool2d(x, 3, stride=1, padding=1)
    lo = -torch.nn.functional.max_pool2d(-x, 3, stride=1, padding=1)
    return ((hi - lo).amax(dim=1, keepdim=True) > EDGE_RANGE).float()


def reconstruction_loss(rec: torch.Tensor, x: torch.Tensor, edge_weight: float) -> torch.Tensor:
    err = (rec - x).abs() + (rec - x).pow(2)
    if edge_weight:
        err = err * (1.0 + edge_weight * edge_map(x))
    return err.mean()


@torch.no_grad()
def evaluate(vae, pixels: torch.Tensor) -> dict:
    vae.eval()
    post = vae.encode(pixels).latent_dist
    rec = vae.decode(post.mode()).sample.clamp(-1, 1)
    vae.train()
    err = (rec - pixels).abs() * 127.5  # in 0-255 pixel units
    return {"val_mae_px": err.mean().item(), "val_p99_px": torch.quantile(err.flatten()[::7], 0.99).item(),
            "latent_std": post.mode().std().item()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    common.add_common_args(p, default_minutes=40)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--kl-weight", type=float, default=1e-6)
    p.add_argument("--decoder-only", action="store_true")
    p.add_argument("--init-from", default=os.path.join(common.RUNS, "unet", "frozen", "vae"),
                   help="with --decoder-only: the VAE whose encoder (the UNet's latent space) stays frozen")
    p.add_argument("--edge-weight", type=float, default=0.0, help="extra weight of the error at the target's edges")
    args = p.parse_args()
    common.setup(args.seed, args.threads)
    run = common.Run("vae_decoder" if args.decoder_only else "vae", args)

    images, _, _ = common.train_data(args)
    val_images, _, _ = dataset.make_split(args.data_seed, "val", 64)
    val_pixels = common.images_to_tensor(val_images)

    if args.decoder_only:
        from diffusers import AutoencoderKL

        vae = AutoencoderKL.from_pretrained(args.init_from)
        vae.encoder.requires_grad_(False)
        vae.quant_conv.requires_grad_(False)
        args.kl_weight = 0.0  # the posterior is fixed
    else:
        vae = models.make_vae()
    opt = torch.optim.AdamW([p for p in vae.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0)
    step, history = 0, []
    state = run.load()
    if state:
        vae.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, history = state["step"], state["history"]
        run.log(f"resumed at step {step}; args {vars(args)}")
    else:
        run.log(f"vae params {models.count(vae)}; args {vars(args)}")

    def checkpoint(final: bool = False):
        run.save({"model": vae.state_dict(), "opt": opt.state_dict(), "step": step, "history": history})
        if final and not args.decoder_only:
            with torch.no_grad():
                vae.eval()
                sample = common.images_to_tensor(images[:1024])
                z = torch.cat([vae.encode(sample[i:i + 128]).latent_dist.sample() for i in range(0, 1024, 128)])
                vae.register_to_config(scaling_factor=float(1.0 / z.std()))
                run.log(f"latent std {z.std().item():.4f} mean {z.mean().item():.4f}; "
                        f"scaling_factor {vae.config.scaling_factor:.5f}")
        vae.save_pretrained(os.path.join(run.dir, "model"))

    vae.train()
    t0, losses, recs, kls = time.time(), [], [], []
    while step < args.max_steps and not run.out_of_time():
        for g in opt.param_groups:
            g["lr"] = common.lr_at(step, args.lr, args.warmup)
        batch = np.random.randint(0, len(images), size=args.batch)
        x = common.images_to_tensor(images[batch])
        with torch.set_grad_enabled(not args.decoder_only):
            post = vae.encode(x).latent_dist
        rec = vae.decode(post.sample()).sample
        rec_loss = reconstruction_loss(rec, x, args.edge_weight)
        kl = post.kl().mean()
        loss = rec_loss + args.kl_weight * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        recs.append(rec_loss.item())
        kls.append(kl.item())
        step += 1
        if step % 25 == 0:
            row = {"step": step, "loss": float(np.mean(losses)), "rec": float(np.mean(recs)), "kl": float(np.mean(kls)),
                   **evaluate(vae, val_pixels), "sec_per_step": (time.time() - t0) / len(losses)}
            history.append(row)
            run.record(row)
            run.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
            t0, losses, recs, kls = time.time(), [], [], []
        if run.due():
            checkpoint()
    checkpoint()
    run.log(f"stopped at step {step}")


if __name__ == "__main__":
    main()
