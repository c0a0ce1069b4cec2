"""Export easel-mini as a diffusers Stable Diffusion v1 folder in fp16 safetensors.

  python3 training/export.py --out easel-mini

Takes the UNet's EMA weights (runs/<--unet-run>/model) and the exact VAE and CLIP it was trained against
(runs/<--unet-run>/frozen/), writes model_index.json, text_encoder/, tokenizer/, unet/, vae/, scheduler/
(SD v1.4's PNDM config) and vision_model/ (the CLIP vision tower with its projection, plus the text
projection and logit scale in vision_model/text_projection.safetensors, for zero-shot evaluation),
then loads the folder back with StableDiffusionPipeline, draws a sample grid and times one image.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time

import numpy as np
import torch
from PIL import Image

import common
import dataset
import models

# SD v1.4's scheduler/scheduler_config.json (CompVis/stable-diffusion-v1-4), keys and values as published
# (clip_sample is a DDIM key that file carries; PNDMScheduler ignores it).
SD14_SCHEDULER = {"_class_name": "PNDMScheduler", "_diffusers_version": "0.7.0.dev0", "beta_end": 0.012,
                  "beta_schedule": "scaled_linear", "beta_start": 0.00085, "num_train_timesteps": 1000,
                  "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None,
                  "clip_sample": False}


def export(out: str, unet_run: str, default_guidance: float) -> None:
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from safetensors.torch import load_file, save_file
    from transformers import CLIPModel, CLIPTextModel, CLIPVisionModelWithProjection

    frozen = os.path.join(common.RUNS, unet_run, "frozen")
    vae = AutoencoderKL.from_pretrained(os.path.join(frozen, "vae"))
    tuned = os.path.join(common.RUNS, "vae_decoder", "model")
    if os.path.exists(tuned):  # decoder fine-tuned on the frozen encoder (train_vae.py --decoder-only)
        decoder = AutoencoderKL.from_pretrained(tuned)
        for name, w in vae.state_dict().items():
            if name.startswith(("encoder.", "quant_conv.")) and not torch.equal(w, decoder.state_dict()[name]):
                raise SystemExit(f"{tuned}: encoder weight {name} differs from the UNet's frozen VAE")
        if decoder.config.scaling_factor != vae.config.scaling_factor:
            raise SystemExit(f"{tuned}: scaling factor differs from the UNet's frozen VAE")
        vae = decoder
        print(f"vae decoder from {tuned}")
    clip = CLIPModel.from_pretrained(os.path.join(frozen, "clip"))
    unet = UNet2DConditionModel.from_pretrained(os.path.join(common.RUNS, unet_run, "model"))

    text = CLIPTextModel(clip.config.text_config)
    text.load_state_dict(clip.text_model.state_dict())  # transformers 5: CLIPTextModel is the text transformer itself
    vision = CLIPVisionModelWithProjection(clip.config.vision_config)
    vision.vision_model.load_state_dict(clip.vision_model.state_dict())
    vision.visual_projection.load_state_dict(clip.visual_projection.state_dict())

    tok = models.tokenizer()
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tok, unet=unet,
                                   scheduler=PNDMScheduler.from_config(SD14_SCHEDULER), safety_checker=None,
                                   feature_extractor=None, requires_safety_checker=False)
    pipe.to(torch.float16)
    pipe.save_pretrained(out, safe_serialization=True)
    # SD v1.x text encoders store their keys under "text_model." (CLIPTextModel of transformers 4);
    # transformers 5 saves them bare but still loads the prefixed form, so write what SD v1.4 has.
    te = os.path.join(out, "text_encoder", "model.safetensors")
    bare = load_file(te)
    save_file({"text_model." + k: v.contiguous() for k, v in bare.items()}, te, metadata={"format": "pt"})
    # SD v1's tokenizer folder: vocab.json + merges.txt (transformers 5 would write only tokenizer.json).
    shutil.rmtree(os.path.join(out, "tokenizer"))
    shutil.copytree(os.path.join(common.RUNS, "tokenizer"), os.path.join(out, "tokenizer"))
    for d in ("unet", "vae"):  # drop the local training paths diffusers records
        cfg_path = os.path.join(out, d, "config.json")
        with open(cfg_path) as f:
            cfg = json.load(f)
        cfg.pop("_name_or_path", None)
        with open(cfg_path, "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
    with open(os.path.join(out, "scheduler", "scheduler_config.json"), "w") as f:
        json.dump(SD14_SCHEDULER, f, indent=2)
    vision.to(torch.float16).save_pretrained(os.path.join(out, "vision_model"), safe_serialization=True)
    save_file({"text_projection.weight": clip.text_projection.weight.detach().half().contiguous(),
               "logit_scale": clip.logit_scale.detach().half().reshape(1)},
              os.path.join(out, "vision_model", "text_projection.safetensors"))
    # The CLIP was trained on pixels scaled to [-1, 1] at 64x64 (common.images_to_tensor), which
    # CLIPImageProcessor expresses as mean = std = 0.5 with no resize or crop at this size.
    processor = {"image_processor_type": "CLIPImageProcessor", "do_resize": True, "size": {"shortest_edge": 64},
                 "resample": 3, "do_center_crop": True, "crop_size": {"height": 64, "width": 64},
                 "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                 "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "do_convert_rgb": True}
    with open(os.path.join(out, "vision_model", "preprocessor_config.json"), "w") as f:
        json.dump(processor, f, indent=2)
    # Easel's sampling defaults for this model (easel.json): the guidance chosen on 100 val captions with
    # `easel eval images --captions easel-mini/eval/val.jsonl --count 100` (MODEL_CARD.md has the sweep;
    # above about 3 the colours wash out).
    with open(os.path.join(out, "easel.json"), "w") as f:
        json.dump({"guidance_scale": default_guidance}, f, indent=2)
        f.write("\n")


def folder_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


@torch.no_grad()
def samples(out: str, steps: int, guidance: float, seed: int) -> dict:
    """A grid of held-in and held-out prompts (fp32 on CPU), and the time of one image."""
    from diffusers import StableDiffusionPipeline

    from transformers import CLIPTextModel

    _, info = CLIPTextModel.from_pretrained(os.path.join(out, "text_encoder"), output_loading_info=True)
    if info["missing_keys"] or info["unexpected_keys"]:
        raise SystemExit(f"text_encoder does not load cleanly: {info}")
    pipe = StableDiffusionPipeline.from_pretrained(out, torch_dtype=torch.float32)
    probe = "a small purple heart to the right of an orange square"
    if pipe.tokenizer(probe).input_ids != models.tokenizer()(probe).input_ids:
        raise SystemExit("exported tokenizer differs from the training tokenizer")
    pipe.set_progress_bar_config(disable=True)
    prompts = [dataset.make_example(0, "val", i)[1] for i in range(8)]
    prompts += [dataset.make_example(0, "heldout", i)[1] for i in range(8)]
    g = torch.Generator().manual_seed(seed)
    t = time.time()
    pipe(prompts[0], height=64, width=64, num_inference_steps=steps, guidance_scale=guidance, generator=g)
    one = time.time() - t
    g = torch.Generator().manual_seed(seed)
    imgs = pipe(prompts, height=64, width=64, num_inference_steps=steps, guidance_scale=guidance,
                generator=g, output_type="np").images
    imgs = (np.clip(imgs, 0, 1) * 255).round().astype(np.uint8)
    grid = np.concatenate([np.concatenate(list(imgs[r * 8:(r + 1) * 8]), axis=1) for r in range(2)], axis=0)
    Image.fromarray(grid).save(os.path.join(out, "samples.png"))
    return {"prompts": prompts, "seconds_per_image": one, "steps": steps, "guidance": guidance, "seed": seed}


def stage_summary(stages: list[str]) -> dict:
    """Per stage (run folder), from its checkpoint (what the exported weights saw): steps, seconds spent in steps,
    and the first and last logged losses."""
    out = {}
    for stage in stages:
        path = os.path.join(common.RUNS, stage, "checkpoint.pt")
        if not os.path.exists(path):
            continue
        state = torch.load(path, weights_only=False, map_location="cpu")
        rows = state["history"]
        spent, prev = 0.0, 0
        for row in rows:
            spent += row["sec_per_step"] * (row["step"] - prev)
            prev = row["step"]
        out[stage] = {"steps": state["step"], "step_seconds": round(spent), "first": rows[0], "last": rows[-1]}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default=os.path.join(common.HERE, "..", "easel-mini"))
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--guidance", type=float, default=2.0, help="guidance of samples.png")
    p.add_argument("--default-guidance", type=float, default=2.0, help="the guidance Easel draws this model at (easel.json)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--unet-run", default="unet", help="run folder of the UNet (its frozen/ holds the VAE and CLIP it saw)")
    p.add_argument("--stages", nargs="+", default=["clip", "vae", "vae_decoder", "unet"],
                   help="run folders whose training the summary reports, in the order they ran")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    export(args.out, args.unet_run, args.default_guidance)
    info = samples(args.out, args.steps, args.guidance, args.seed)
    info["bytes"] = folder_bytes(args.out)
    info["stages"] = stage_summary(args.stages)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
