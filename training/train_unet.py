"""Stage (c): a mini UNet2DConditionModel predicting noise on the mini VAE's latents (16x16x4),
conditioned on the frozen mini-CLIP text tower's last hidden state.

  nice -n 19 python3 training/train_unet.py [--resume] > training/runs/unet/log.txt 2>&1

SD v1 recipe, shrunk: epsilon prediction, DDPM forward process with 1000 steps and the scaled_linear
0.00085-0.012 betas, 10% empty captions for classifier-free guidance, an EMA of the weights (exported).
Loss weighting: min-SNR (gamma 5, Hang et al. 2023), which converges faster than plain MSE on a
small compute budget; it only reweights timesteps, the target stays epsilon.

At the first start it snapshots the VAE (runs/vae/model) and the CLIP text tower (runs/<--clip>/model)
into runs/<--run>/frozen/ and caches the latent posteriors and text states there; resumes and the export
use that snapshot, so the UNet always matches the encoders it was trained against.
"""

from __future__ import annotations

import argparse
import copy
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import common
import dataset
import models


def snapshot(run_dir: str, train_images, captions, tok, clip_run: str) -> dict:
    """Frozen VAE + text encoder copies and the cached encodings."""
    from diffusers import AutoencoderKL
    from transformers import CLIPModel

    frozen = os.path.join(run_dir, "frozen")
    cache = os.path.join(frozen, "cache.pt")
    if os.path.exists(cache):
        return torch.load(cache, weights_only=False)
    vae = AutoencoderKL.from_pretrained(os.path.join(common.RUNS, "vae", "model")).eval()
    clip = CLIPModel.from_pretrained(os.path.join(common.RUNS, clip_run, "model")).eval()
    means, stds = [], []
    with torch.no_grad():
        for i in range(0, len(train_images), 256):
            post = vae.encode(common.images_to_tensor(train_images[i:i + 256])).latent_dist
            means.append(post.mean.half())
            stds.append(post.std.half())
        ids = models.tokenize(tok, captions)
        unique, inverse = torch.unique(ids, dim=0, return_inverse=True)
        states = torch.cat([clip.text_model(input_ids=unique[i:i + 512]).last_hidden_state.half()
                            for i in range(0, len(unique), 512)])
        empty = clip.text_model(input_ids=models.tokenize(tok, [""])).last_hidden_state.half()
        # SD v1's scaling factor: 1 / std of the latents, so the diffusion sees unit-variance data.
        mean, std = torch.cat(means).float(), torch.cat(stds).float()
        z = mean + std * torch.randn(mean.shape, generator=torch.Generator().manual_seed(0))
        vae.register_to_config(scaling_factor=float(1.0 / z.std()))
    os.makedirs(frozen, exist_ok=True)
    vae.save_pretrained(os.path.join(frozen, "vae"))
    clip.save_pretrained(os.path.join(frozen, "clip"))
    data = {"mean": torch.cat(means), "std": torch.cat(stds), "states": states, "caption_index": inverse,
            "empty": empty, "scaling_factor": float(vae.config.scaling_factor)}
    torch.save(data, cache + ".tmp")
    os.replace(cache + ".tmp", cache)
    return data


def min_snr_weight(alphas_cumprod: torch.Tensor, t: torch.Tensor, gamma: float) -> torch.Tensor:
    snr = alphas_cumprod[t] / (1 - alphas_cumprod[t])
    return torch.clamp(snr, max=gamma) / snr


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    common.add_common_args(p, default_minutes=100)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--uncond-prob", type=float, default=0.1)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--snr-gamma", type=float, default=5.0)
    p.add_argument("--run", default="unet", help="run folder under runs/ (copy a checkpoint there to branch a run)")
    p.add_argument("--clip", default="clip", help="run folder of the CLIP whose text tower conditions the UNet "
                   "(snapshotted into <run>/frozen at the first start)")
    p.add_argument("--init-from", help="start from this UNet folder (e.g. runs/unet/model) instead of random weights; "
                   "the EMA starts from it too")
    p.add_argument("--layout-frac", type=float, default=0.0,
                   help="fraction of each batch whose timestep is drawn from [--layout-t, 1000): the noisy steps "
                        "where a picture's layout (where the object goes) is decided")
    p.add_argument("--layout-t", type=int, default=600)
    p.add_argument("--two-object-frac", type=float,
                   help="draw this fraction of each batch from two-object scenes (a third of the data) instead of "
                        "uniformly: more of the gradient on binding each colour to its shape and on relations")
    p.add_argument("--layout-x0", action="store_true",
                   help="weight the loss at timesteps >= --layout-t by snr(layout_t) / snr(t): an error in the picture "
                        "the model predicts there counts as much as at --layout-t, where epsilon's loss alone would "
                        "count it snr(t) times, down to 0.005 at t = 999")
    args = p.parse_args()
    if args.two_object_frac is not None and not 0 <= args.two_object_frac <= 1:
        p.error(f"--two-object-frac must be in [0, 1], got {args.two_object_frac}")
    common.setup(args.seed, args.threads)
    run = common.Run(args.run, args)

    from diffusers import DDPMScheduler

    images, captions, truths = common.train_data(args)
    two = np.array([len(t["objects"]) == 2 for t in truths])
    one_index, two_index = np.flatnonzero(~two), np.flatnonzero(two)
    tok = models.tokenizer()
    t_start = time.time()
    data = snapshot(run.dir, images, captions, tok, args.clip)
    run.log(f"frozen encodings ready ({time.time() - t_start:.0f}s): {len(captions)} images, "
            f"{len(data['states'])} distinct captions, scaling_factor {data['scaling_factor']:.5f}")
    sched = DDPMScheduler(**models.SCHEDULE)
    alphas_cumprod = sched.alphas_cumprod
    snr_layout = alphas_cumprod[args.layout_t] / (1 - alphas_cumprod[args.layout_t])

    # A fixed validation batch (its own generator): loss at fixed timesteps tracks progress without sampling.
    g = torch.Generator().manual_seed(1234)
    vbatch = torch.randint(0, len(captions), (128,), generator=g)
    vt = torch.linspace(20, 980, 128).long()
    vnoise = torch.randn(128, 4, 16, 16, generator=g)
    vz = (data["mean"][vbatch].float() + data["std"][vbatch].float() * torch.randn(128, 4, 16, 16, generator=g)) \
        * data["scaling_factor"]
    vcond = data["states"][data["caption_index"][vbatch]].float()

    if args.init_from:
        from diffusers import UNet2DConditionModel
        unet = UNet2DConditionModel.from_pretrained(args.init_from)
    else:
        unet = models.make_unet()
    ema = copy.deepcopy(unet).requires_grad_(False)
    opt = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.01)
    step, history = 0, []
    state = run.load()
    if state:
        unet.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        step, history = state["step"], state["history"]
        run.log(f"resumed at step {step}; args {vars(args)}")
    else:
        run.log(f"unet params {models.count(unet)}; args {vars(args)}")

    def checkpoint():
        run.save({"model": unet.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                  "step": step, "history": history})
        ema.save_pretrained(os.path.join(run.dir, "model"))

    @torch.no_grad()
    def val_loss(model) -> float:
        model.eval()
        pred = model(sched.add_noise(vz, vnoise, vt), vt, encoder_hidden_states=vcond).sample
        model.train()
        return F.mse_loss(pred, vnoise).item()

    unet.train()
    t0, losses = time.time(), []
    while step < args.max_steps and not run.out_of_time():
        for grp in opt.param_groups:
            grp["lr"] = common.lr_at(step, args.lr, args.warmup)
        if args.two_object_frac is None:
            batch = torch.from_numpy(np.random.randint(0, len(captions), size=args.batch))
        else:
            k = round(args.two_object_frac * args.batch)
            batch = torch.from_numpy(np.concatenate([np.random.choice(two_index, k),
                                                     np.random.choice(one_index, args.batch - k)]))
        z0 = (data["mean"][batch].float() + data["std"][batch].float() * torch.randn(args.batch, 4, 16, 16)) \
            * data["scaling_factor"]
        cond = data["states"][data["caption_index"][batch]].float()
        drop = torch.rand(args.batch) < args.uncond_prob
        cond[drop] = data["empty"].float()
        t = torch.randint(0, sched.config.num_train_timesteps, (args.batch,))
        layout = torch.rand(args.batch) < args.layout_frac
        t[layout] = torch.randint(args.layout_t, sched.config.num_train_timesteps, (int(layout.sum()),))
        noise = torch.randn_like(z0)
        pred = unet(sched.add_noise(z0, noise, t), t, encoder_hidden_states=cond).sample
        per_sample = (pred - noise).pow(2).mean(dim=(1, 2, 3))
        weight = min_snr_weight(alphas_cumprod, t, args.snr_gamma)
        if args.layout_x0:
            snr = alphas_cumprod[t] / (1 - alphas_cumprod[t])
            weight = weight * torch.clamp(snr_layout / snr, min=1.0)
        loss = (per_sample * weight).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), unet.parameters()):
                pe.lerp_(pm, 1 - decay)
        losses.append(per_sample.mean().item())
        step += 1
        if step % 50 == 0:
            row = {"step": step, "mse": float(np.mean(losses)), "val_mse": val_loss(unet), "val_mse_ema": val_loss(ema),
                   "sec_per_step": (time.time() - t0) / len(losses)}
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
