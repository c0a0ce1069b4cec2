#!/usr/bin/env python3
# Makes the DiffusionTests fixtures: tiny random Stable Diffusion v1 models and golden outputs.
# Versions used: torch 2.15.0 (CPU), diffusers 0.42.1, transformers 5.24.0, safetensors 0.8.0, numpy 2.4.6,
# open_clip_torch 3.3.0 (only for its bpe_simple_vocab_16e6.txt.gz: the CLIP BPE vocabulary).
# Run from the repository root: python3 tools/make_sd_fixtures.py
# Everything here is made from fixed seeds; the weights are random and made here, never downloaded.
import gzip, json, os, sys
import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from make_sd_clip_vocab import write_clip_vocab  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "Tests", "DiffusionTests", "Fixtures")
torch.set_num_threads(1)


def out(*parts):
    p = os.path.join(ROOT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def dump(obj, *parts):
    with open(out(*parts), "w") as f:
        json.dump(obj, f, separators=(",", ":"))


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


# --- torch.randn parity: PyTorch's CPU generator (mt19937, normal_fill for >= 16 values) ---------------
def make_random():
    cases = []
    for seed, shapes in [(0, [[1], [2], [3], [7], [15], [16], [17], [31], [100]]),
                         (42, [[1, 4, 8, 8]]), (1234, [[5], [16], [2, 4, 3, 3], [1]]),
                         (2**32 + 7, [[20]]), (987654321, [[1, 4, 16, 16]])]:
        g = torch.Generator().manual_seed(seed)
        draws = [{"shape": s, "values": flat(torch.randn(s, generator=g, dtype=torch.float32))} for s in shapes]
        cases.append({"seed": seed, "draws": draws})
    dump({"cases": cases}, "random", "torch_randn.json")


# --- Schedulers: timesteps and every step over a full schedule ------------------------------------------
SD14 = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
            set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1, clip_sample=False, trained_betas=None)


def make_schedulers():
    from diffusers import (PNDMScheduler, DDIMScheduler, EulerDiscreteScheduler,
                           EulerAncestralDiscreteScheduler, DPMSolverMultistepScheduler)
    variants = {
        "pndm": (PNDMScheduler, {}, {}),
        "ddim": (DDIMScheduler, {}, {"eta": 0.0}),
        "ddim-eta": (DDIMScheduler, {}, {"eta": 0.7}),
        "ddim-trailing": (DDIMScheduler, {"timestep_spacing": "trailing"}, {"eta": 0.0}),
        "euler": (EulerDiscreteScheduler, {}, {}),
        "euler-leading": (EulerDiscreteScheduler, {"timestep_spacing": "leading"}, {}),
        "euler-a": (EulerAncestralDiscreteScheduler, {}, {}),
        "dpmpp-2m": (DPMSolverMultistepScheduler, {}, {}),
        "dpmpp-2m-karras": (DPMSolverMultistepScheduler, {"use_karras_sigmas": True}, {}),
        "dpmpp-2m-heun-sigmamin": (DPMSolverMultistepScheduler,
                                   {"solver_type": "heun", "final_sigmas_type": "sigma_min"}, {}),
    }
    for name, (cls, extra, step_kwargs) in variants.items():
        config = dict(SD14, **extra)
        sched = cls.from_config(config)
        timesteps = {}
        for n in [1, 2, 3, 7, 10, 20, 25, 50]:
            s = cls.from_config(config)
            s.set_timesteps(n)
            timesteps[str(n)] = [float(t) for t in s.timesteps.tolist()]
        steps = 10
        sched.set_timesteps(steps)
        g = torch.Generator().manual_seed(7)
        x = torch.randn(1, 4, 4, 4, generator=g) * float(sched.init_noise_sigma)
        initial = flat(x)
        record = []
        step_gen = torch.Generator().manual_seed(11)
        for t in sched.timesteps:
            scaled = sched.scale_model_input(x, t)
            # A model-like output that depends on the sample and the timestep, so errors propagate.
            eps = torch.sin(scaled * 1.3) * 0.8 + float(t) / 1000.0 * 0.05
            kwargs = dict(step_kwargs)
            if name in ("euler-a", "ddim-eta"):
                kwargs["generator"] = step_gen
            prev = sched.step(eps, t, x, **kwargs).prev_sample
            record.append({"timestep": float(t), "scaled": flat(scaled), "model_output": flat(eps),
                           "prev_sample": flat(prev)})
            x = prev
        # add_noise at the timestep img2img starts from (strength 0.6 of 10 steps: index 4)
        s = cls.from_config(config)
        s.set_timesteps(steps)
        original = torch.linspace(-1, 1, 64).reshape(1, 4, 4, 4)
        noise = torch.cos(torch.arange(64, dtype=torch.float32)).reshape(1, 4, 4, 4)
        start = 4 * s.order
        if hasattr(s, "set_begin_index"):
            s.set_begin_index(start)
        noisy = s.add_noise(original, noise, s.timesteps[start:start + 1])
        dump({"config": config, "class": cls.__name__, "extra": extra, "step_kwargs": step_kwargs,
              "step_count": steps, "init_noise_sigma": float(sched.init_noise_sigma),
              "timesteps": timesteps, "steps": record,
              "initial_sample": initial, "add_noise": {"start_index": start, "original": flat(original),
                                                      "noise": flat(noise), "noisy": flat(noisy)},
              "noise_seed": 11},
             "schedulers", f"{name}.json")


def main():
    make_random()
    make_schedulers()


if __name__ == "__main__":
    main()
