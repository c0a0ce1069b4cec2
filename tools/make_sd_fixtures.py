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


# --- Tiny random SD v1 pipeline (diffusers folder layout) and module goldens -----------------------------
PROMPT = "a tiny red fox, watercolor"


def save_tensors(tensors, *parts):
    save_file({k: v.detach().contiguous().float() for k, v in tensors.items()}, out(*parts))


def make_models():
    from diffusers import (AutoencoderKL, UNet2DConditionModel, PNDMScheduler, StableDiffusionPipeline,
                           StableDiffusionImg2ImgPipeline, EulerAncestralDiscreteScheduler)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    root = os.path.dirname(out("tiny-sd", "model_index.json"))
    tok_dir = os.path.join(root, "tokenizer")
    vocab_size = write_clip_vocab(tok_dir, merge_count=1000)
    with open(os.path.join(tok_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"model_max_length": 77, "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
                   "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "do_lower_case": True,
                   "tokenizer_class": "CLIPTokenizer"}, f, indent=2)
    with open(os.path.join(tok_dir, "special_tokens_map.json"), "w") as f:
        json.dump({"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
                   "unk_token": "<|endoftext|>"}, f, indent=2)
    tokenizer = CLIPTokenizer.from_pretrained(tok_dir)

    torch.manual_seed(0)
    text_config = CLIPTextConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                                 num_attention_heads=4, max_position_embeddings=77, hidden_act="quick_gelu",
                                 layer_norm_eps=1e-5, bos_token_id=vocab_size - 2, eos_token_id=vocab_size - 1,
                                 pad_token_id=vocab_size - 1, projection_dim=32)
    text_encoder = CLIPTextModel(text_config).eval()
    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(16, 32), layers_per_block=2, sample_size=16, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                attention_head_dim=(2, 4), norm_num_groups=8).eval()
    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=[16, 32], in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        latent_channels=4, norm_num_groups=8, layers_per_block=1, sample_size=32).eval()
    # The UNet is stored as the fp16 variant (as SD checkpoints often are); its goldens use the same
    # fp16-rounded weights widened to float32, which is what Easel computes with.
    unet = unet.half().float()
    scheduler = PNDMScheduler.from_config(SD14)
    text_encoder.save_pretrained(os.path.join(root, "text_encoder"))
    unet.half().save_pretrained(os.path.join(root, "unet"), variant="fp16")
    unet = unet.float()
    vae.save_pretrained(os.path.join(root, "vae"))
    scheduler.save_pretrained(os.path.join(root, "scheduler"))
    with open(os.path.join(root, "model_index.json"), "w") as f:
        json.dump({"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.42.1",
                   "feature_extractor": [None, None], "requires_safety_checker": False, "safety_checker": [None, None],
                   "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
                   "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
                   "vae": ["diffusers", "AutoencoderKL"]}, f, indent=2)
    for sub in ["text_encoder", "unet", "vae"]:
        print(sub, sum(p.numel() for p in dict(text_encoder=text_encoder, unet=unet, vae=vae)[sub].parameters()))

    with torch.no_grad():
        ids = tokenizer(PROMPT, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
        hidden = text_encoder(ids).last_hidden_state
        g = torch.Generator().manual_seed(3)
        latents = torch.randn(2, 4, 16, 16, generator=g)
        states = torch.randn(2, 77, 32, generator=g)
        short_states = torch.randn(2, 20, 32, generator=g)
        noise_401 = unet(latents, 401, encoder_hidden_states=states).sample
        noise_euler = unet(latents, torch.tensor(537.75), encoder_hidden_states=short_states).sample
        z = torch.randn(1, 4, 16, 16, generator=g)
        decoded = vae.decode(z).sample
        image = torch.rand(1, 3, 32, 32, generator=g) * 2 - 1
        dist = vae.encode(image).latent_dist
    save_tensors({"input_ids": ids.float(), "last_hidden_state": hidden}, "tiny-sd-io", "clip.safetensors")
    save_tensors({"latents": latents, "states": states, "short_states": short_states, "noise_401": noise_401,
                  "noise_537_75": noise_euler}, "tiny-sd-io", "unet.safetensors")
    save_tensors({"z": z, "decoded": decoded, "image": image, "mean": dist.mean, "logvar": dist.logvar},
                 "tiny-sd-io", "vae.safetensors")

    pipe = StableDiffusionPipeline.from_pretrained(root, safety_checker=None, requires_safety_checker=False,
                                                   variant="fp16", torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    g = torch.Generator().manual_seed(5)
    start = torch.randn(1, 4, 16, 16, generator=g)
    pndm = pipe(PROMPT, negative_prompt="", num_inference_steps=4, guidance_scale=7.5, latents=start,
                output_type="np").images
    pipe.scheduler = EulerAncestralDiscreteScheduler.from_config(pipe.scheduler.config)
    seeded = pipe([PROMPT, "a blue cat"], num_inference_steps=5, guidance_scale=5.0,
                  generator=torch.Generator().manual_seed(1234), output_type="np").images
    pipe.scheduler = PNDMScheduler.from_config(pipe.scheduler.config)
    img2img = StableDiffusionImg2ImgPipeline(**pipe.components)
    img2img.set_progress_bar_config(disable=True)
    # An 8-bit picture, as a PNG would give it.
    init = (torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(9)) * 255).round() / 255
    edited = img2img(PROMPT, image=init, strength=0.6, num_inference_steps=10, guidance_scale=7.5,
                     generator=torch.Generator().manual_seed(77), output_type="np").images
    save_tensors({"start_latents": start, "pndm_image": torch.from_numpy(pndm),
                  "euler_a_seeded_images": torch.from_numpy(seeded), "img2img_init": init,
                  "img2img_image": torch.from_numpy(edited)}, "tiny-sd-io", "pipeline.safetensors")
    dump({"prompt": PROMPT, "pndm": {"steps": 4, "guidance": 7.5, "negative_prompt": ""},
          "euler_a_seeded": {"prompts": [PROMPT, "a blue cat"], "steps": 5, "guidance": 5.0, "seed": 1234},
          "img2img": {"strength": 0.6, "steps": 10, "guidance": 7.5, "seed": 77}},
         "tiny-sd-io", "pipeline.json")


def main():
    make_random()
    make_schedulers()
    make_models()




# --- CLIP tokenizer: the real 49408-token vocabulary and tricky strings -----------------------------------
TRICKY = [
    "a photo of an astronaut riding a horse on mars", "", " ", "A PHOTO OF A CAT", "Hello, World!",
    "don't stop believin'", "it's", "they're we've I'm you'll he'd", "''s", "rock'n'roll", "3.14159 is pi",
    "2024-01-01T12:00", "1000000 dollars", "   leading and trailing   ", "tabs\tand\nnewlines\r\nhere",
    "multiple     spaces", "café naïve résumé", "Cafe\u0301 (decomposed)", "straße", "İstanbul", "Ελληνικά κείμενο",
    "Привет мир", "日本語のテキスト", "中文字符测试", "한국어 텍스트", "emoji 🎨🖌️ art 👩‍🎨", "mixed日本語and English",
    "@user #hashtag $100 %50 ^caret &amp; *star*", "((masterpiece)), best quality, [[detailed]]",
    "a, b; c: d. e! f? g", "<|startoftext|>hidden<|endoftext|>", "<|ENDOFTEXT|> shouting", "url https://example.com/path?x=1",
    "email me@example.org", "C++ and C# and F#", "ünïcödé ÜBER", "non\u00a0breaking\u2009thin\u3000ideographic",
    "zero\u200bwidth", "a" * 300, "word " * 90, "supercalifragilisticexpialidocious", "ALLCAPS lowercase MiXeD",
    "1st 2nd 3rd 4th", "½ ¾ ⅓ ² ³", "x²+y²=z²", "...", "!!!???", "‘curly’ “quotes”", "a\u0000b", "Ⅻ roman ⅻ",
]


def make_tokenizer_cases():
    from transformers import CLIPTokenizer
    clip_dir = os.path.dirname(out("clip", "vocab.json"))
    write_clip_vocab(clip_dir)
    with open(os.path.join(clip_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"model_max_length": 77, "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
                   "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}, f, indent=2)
    tok = CLIPTokenizer.from_pretrained(clip_dir)
    cases = []
    for text in TRICKY:
        padded = tok(text, padding="max_length", max_length=77, truncation=True).input_ids
        plain = tok(text, add_special_tokens=False).input_ids
        cases.append({"text": text, "ids": plain, "padded": padded})
    dump({"cases": cases}, "clip", "tokenizer_cases.json")




def make_tokenizer_json_copy():
    """transformers 5 saves a CLIPTokenizer as tokenizer.json only (no vocab.json/merges.txt), as easel-mini's
    export does: Fixtures/clip-tokenizer-json is tiny-sd's tokenizer saved that way."""
    from transformers import CLIPTokenizer
    tok = CLIPTokenizer.from_pretrained(os.path.join(ROOT, "tiny-sd", "tokenizer"))
    tok.save_pretrained(os.path.join(ROOT, "clip-tokenizer-json"))


def make_linear_unet():
    """A second tiny UNet with the options SD v1 leaves off: linear proj_in/proj_out
    (use_linear_projection, as SD 2.x), two transformer layers per block, and a CrossAttn block first (its
    skip feeds an up block's last resnet). diffusers 0.42.1 still refuses `num_attention_heads` here."""
    from diffusers import UNet2DConditionModel
    torch.manual_seed(1)
    unet = UNet2DConditionModel(block_out_channels=(8, 16), layers_per_block=1, sample_size=8, in_channels=4,
                                out_channels=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=24,
                                attention_head_dim=(2, 4), norm_num_groups=4,
                                use_linear_projection=True, transformer_layers_per_block=2).eval()
    root = os.path.dirname(out("tiny-unet-linear", "config.json"))
    unet.save_pretrained(root)
    g = torch.Generator().manual_seed(4)
    latents = torch.randn(2, 4, 9, 6, generator=g)   # 9x6: the upsampler must return to 9 rows, not 10
    states = torch.randn(2, 9, 24, generator=g)
    with torch.no_grad():
        noise = unet(latents, 250, encoder_hidden_states=states).sample
    save_tensors({"latents": latents, "states": states, "noise_250": noise}, "tiny-sd-io", "unet_linear.safetensors")


if __name__ == "__main__":
    if "--tokenizer-only" in sys.argv:
        make_tokenizer_cases()
    elif "--linear-unet-only" in sys.argv:
        make_linear_unet()
    else:
        main()
        make_tokenizer_cases()
        make_tokenizer_json_copy()
        make_linear_unet()
