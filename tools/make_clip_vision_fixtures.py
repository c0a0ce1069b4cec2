#!/usr/bin/env python3
# Makes Tests/DiffusionTests/Fixtures/clip_vision/: a tiny random CLIPModel in the openai/clip-vit-large-patch14
# folder layout with reference outputs, CLIPImageProcessor references on non-square images, and easel-mini's own
# CLIP run by transformers on four dataset images.
# Versions used: torch 2.15.0 (CPU), transformers 5.24.0 (CLIPImageProcessor falls back to CLIPImageProcessorPil,
# PIL resizing, since torchvision is not installed), pillow 13.0.0, numpy 2.4.6, safetensors 0.8.0.
# Run from the repository root: python3 tools/make_clip_vision_fixtures.py
# The tiny model's weights are random, from fixed seeds, made here; its tokenizer is tiny-sd's (the first 1000
# CLIP merges, made by tools/make_sd_fixtures.py). The easel-mini references read easel-mini/ (trained here) and
# the dataset generator of training/dataset.py (pass --dataset DIR if it is not at ../mini/training or training/).
import json, os, shutil, sys
import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(REPO, "Tests", "DiffusionTests", "Fixtures")
ROOT = os.path.join(FIXTURES, "clip_vision")
TINY = os.path.join(ROOT, "tiny-clip")
torch.set_num_threads(1)
torch.set_grad_enabled(False)  # references only

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def flat(t):
    return [float(v) for v in torch.as_tensor(t).detach().reshape(-1).tolist()]


def processor(config):
    # transformers 5.24's CLIPImageProcessor needs torchvision; without it, it is this PIL backend.
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil
    return CLIPImageProcessorPil(**config)


def pixels(config, image):
    return torch.from_numpy(np.asarray(processor(config)(image, return_tensors="np")["pixel_values"][0]))


def test_image(width, height, seed):
    """Smooth colour ramps, a sharp edge and noise: something the resampling filters can get wrong."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 255 * x / max(width - 1, 1)
    g = 255 * (0.5 + 0.5 * np.sin(y / 3.0 + x / 5.0))
    b = np.where(x + 2 * y > width, 230.0, 20.0)
    img = np.stack([r, g, b], axis=-1) + rng.normal(0, 25, size=(height, width, 3))
    return Image.fromarray(np.clip(np.round(img), 0, 255).astype(np.uint8), "RGB")


# --- CLIPImageProcessor: resize (PIL bicubic / bilinear), centre crop (with padding), rescale, normalize ----------
PROCESSOR_CASES = {
    # shortest edge 31 -> 32: upsampling, then a 32x32 crop of the 48x32 result (the tiny model's processor).
    "clip-32": dict(do_resize=True, size={"shortest_edge": 32}, resample=3, do_center_crop=True,
                    crop_size={"height": 32, "width": 32}, image_mean=CLIP_MEAN, image_std=CLIP_STD),
    # 47x31 -> 24x16: antialiased downsampling, the filter support widened by the scale.
    "bicubic-down-16": dict(do_resize=True, size={"shortest_edge": 16}, resample=3, do_center_crop=True,
                            crop_size={"height": 16, "width": 16}, image_mean=CLIP_MEAN, image_std=CLIP_STD),
    # 47x31 -> 10x7, a factor of 4.4.
    "bicubic-down-7": dict(do_resize=True, size={"shortest_edge": 7}, resample=3, do_center_crop=True,
                           crop_size={"height": 7, "width": 7}, image_mean=CLIP_MEAN, image_std=CLIP_STD),
    # bilinear, a non-square crop and other statistics.
    "bilinear-20": dict(do_resize=True, size={"shortest_edge": 20}, resample=2, do_center_crop=True,
                        crop_size={"height": 14, "width": 18}, image_mean=[0.5, 0.25, 0.75], image_std=[0.2, 0.4, 0.3]),
    # no resize; the crop is taller than the image, so it is padded with zeros before rescaling; no normalisation.
    "pad-crop": dict(do_resize=False, do_center_crop=True, crop_size={"height": 34, "width": 20},
                     do_normalize=False),
    # shortest edge equal to the image's: PIL returns a copy, no resampling.
    "same-size": dict(do_resize=True, size={"shortest_edge": 31}, resample=3, do_center_crop=True,
                      crop_size={"height": 20, "width": 20}, image_mean=CLIP_MEAN, image_std=CLIP_STD),
    # a square target size ({"height", "width"}) ignores the aspect ratio.
    "square-size": dict(do_resize=True, size={"height": 12, "width": 20}, resample=3, do_center_crop=False,
                        image_mean=CLIP_MEAN, image_std=CLIP_STD),
}


def make_processor_cases(image):
    tensors, cases = {}, []
    for name, config in PROCESSOR_CASES.items():
        pv = pixels(config, image)
        tensors[name] = pv.float().contiguous()
        cases.append({"name": name, "config": config, "shape": list(pv.shape)})
    save_file(tensors, os.path.join(ROOT, "processor.safetensors"))
    with open(os.path.join(ROOT, "processor.json"), "w") as f:
        json.dump({"image": "image-47x31.png", "cases": cases}, f, indent=1)


# --- The tiny CLIPModel --------------------------------------------------------------------------------------
def make_tiny_clip():
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    os.makedirs(TINY, exist_ok=True)
    tok_src = os.path.join(FIXTURES, "tiny-sd", "tokenizer")
    for name in ("vocab.json", "merges.txt", "special_tokens_map.json"):
        shutil.copy(os.path.join(tok_src, name), os.path.join(TINY, name))
    with open(os.path.join(TINY, "tokenizer_config.json"), "w") as f:
        json.dump({"model_max_length": 16, "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
                   "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "do_lower_case": True,
                   "tokenizer_class": "CLIPTokenizer"}, f, indent=2)
    tokenizer = CLIPTokenizer.from_pretrained(TINY)
    vocab = len(tokenizer)
    assert tokenizer.eos_token_id == vocab - 1 and tokenizer.bos_token_id == vocab - 2

    # Widths differ between the towers and from the projection, so a transposed or swapped matrix fails.
    text = dict(vocab_size=vocab, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                max_position_embeddings=16, hidden_act="quick_gelu", layer_norm_eps=1e-5, projection_dim=24,
                bos_token_id=vocab - 2, eos_token_id=vocab - 1, pad_token_id=vocab - 1)
    vision = dict(hidden_size=40, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, image_size=32,
                  patch_size=8, num_channels=3, hidden_act="gelu", layer_norm_eps=1e-5, projection_dim=24)
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=24, logit_scale_init_value=2.6592)
    torch.manual_seed(0)
    model = CLIPModel(config).eval()
    # CLIP's initialisation is near-identity (LayerNorm 1/0, std 0.02): draw every weight so each one matters, and
    # round to float16, the dtype saved, so the float32 reference below sees exactly the stored values.
    g = torch.Generator().manual_seed(1)
    for name, p in model.named_parameters():
        if name == "logit_scale":
            continue
        if "layer_norm" in name or "layrnorm" in name:
            base = 1.0 if name.endswith("weight") else 0.0
            p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))
        elif name.endswith("bias"):
            p.copy_(0.1 * torch.randn(p.shape, generator=g))
        else:
            fan_in = p.shape[-1] if p.dim() == 2 else (p[0].numel() if p.dim() > 1 else 1)
            p.copy_(torch.randn(p.shape, generator=g) / fan_in ** 0.5)
        p.copy_(p.half().float())
    model.logit_scale.copy_(model.logit_scale.half().float())
    model.half().save_pretrained(TINY, safe_serialization=True)
    model.float()
    # openai/clip-vit-large-patch14's preprocessor_config.json spells size and crop_size as plain ints.
    with open(os.path.join(TINY, "preprocessor_config.json"), "w") as f:
        json.dump({"crop_size": 32, "do_center_crop": True, "do_normalize": True, "do_resize": True,
                   "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": CLIP_MEAN, "image_std": CLIP_STD,
                   "resample": 3, "size": 32}, f, indent=2)
    loaded = processor(json.load(open(os.path.join(TINY, "preprocessor_config.json"))))
    assert loaded.size["shortest_edge"] == 32 and loaded.crop_size["height"] == 32

    images = [Image.open(os.path.join(ROOT, "image-47x31.png")), Image.open(os.path.join(ROOT, "image-20x24.png"))]
    pv = torch.stack([pixels(PROCESSOR_CASES["clip-32"], im) for im in images])
    captions = ["a red circle on a blue background", "Two green squares, top left!",
                "a very long caption that goes well past sixteen tokens, so the tokenizer has to cut it and keep "
                "the end token last"]
    ids = [tokenizer(c, truncation=True, max_length=16).input_ids for c in captions]
    assert len(ids[2]) == 16 and ids[2][-1] == vocab - 1
    out = {}
    vis = model.vision_model(pixel_values=pv)
    image_embeds = model.visual_projection(vis.pooler_output)
    text_pooled, text_embeds = [], []
    for i in ids:  # one caption at a time, unpadded, as Easel runs them
        t = model.text_model(input_ids=torch.tensor([i]))
        text_pooled.append(t.pooler_output[0])
        text_embeds.append(model.text_projection(t.pooler_output)[0])
    text_pooled, text_embeds = torch.stack(text_pooled), torch.stack(text_embeds)
    padded = tokenizer(captions, padding="max_length", truncation=True, max_length=16, return_tensors="pt")
    full = model(input_ids=padded.input_ids, pixel_values=pv)
    assert torch.allclose(full.text_embeds, torch.nn.functional.normalize(text_embeds, dim=-1), atol=1e-5), \
        "padding changed the pooled EOS output"
    cosine = torch.nn.functional.normalize(image_embeds, dim=-1) @ torch.nn.functional.normalize(text_embeds, dim=-1).T
    # Legacy configs (eos_token_id == 2, openai/clip-vit-large-patch14's) pool at argmax(ids), not at id 2.
    model.text_model.eos_token_id = 2
    legacy_ids = [vocab - 2, 2, 40, vocab - 1, 7]
    legacy = model.text_model(input_ids=torch.tensor([legacy_ids])).pooler_output[0]
    model.text_model.eos_token_id = vocab - 1
    out.update({
        "last_hidden_state_0": vis.last_hidden_state[0], "pooled_output": vis.pooler_output,
        "image_embeds": image_embeds, "text_pooled": text_pooled, "text_embeds": text_embeds,
        "logits_per_image": full.logits_per_image, "cosine": cosine, "legacy_pooled": legacy,
    })
    save_file({k: v.float().contiguous() for k, v in out.items()}, os.path.join(ROOT, "tiny-clip-reference.safetensors"))
    with open(os.path.join(ROOT, "tiny-clip-reference.json"), "w") as f:
        json.dump({"captions": captions, "input_ids": ids, "legacy_eos_token_id": 2, "legacy_input_ids": legacy_ids,
                   "logit_scale": model.logit_scale.exp().item()}, f, indent=1)


# --- easel-mini's own CLIP on dataset images ------------------------------------------------------------------
def make_easel_mini(dataset_dir):
    from safetensors.torch import load_file
    from transformers import CLIPImageProcessor, CLIPTextModel, CLIPTokenizer, CLIPVisionModelWithProjection

    sys.path.insert(0, dataset_dir)
    import dataset

    mini = os.path.join(REPO, "easel-mini")
    text = CLIPTextModel.from_pretrained(os.path.join(mini, "text_encoder"), torch_dtype=torch.float32).eval()
    vision = CLIPVisionModelWithProjection.from_pretrained(os.path.join(mini, "vision_model"),
                                                           torch_dtype=torch.float32).eval()
    extra = load_file(os.path.join(mini, "vision_model", "text_projection.safetensors"))
    text_projection = extra["text_projection.weight"].float()
    tokenizer = CLIPTokenizer.from_pretrained(os.path.join(mini, "tokenizer"))
    proc = CLIPImageProcessor.from_pretrained(os.path.join(mini, "vision_model"))

    # Four one-object validation images with distinct captions (val indices from the dataset's seed 0).
    picks = [0, 1, 2, 3]
    images, captions = [], []
    for i in picks:
        img, caption, _ = dataset.make_example(0, "val", i)
        images.append(img)
        captions.append(caption)
        Image.fromarray(img).save(os.path.join(ROOT, "easel-mini", f"val-{i}.png"))
    pv = torch.from_numpy(np.asarray(proc([Image.fromarray(im) for im in images], return_tensors="np")["pixel_values"]))
    # The trainers' normalisation (training/common.py images_to_tensor): x / 127.5 - 1, no resize.
    trained = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    assert (pv - trained).abs().max() < 1e-6, "preprocessor_config.json does not reproduce the training pixels"
    image_embeds = vision(pixel_values=pv).image_embeds
    text_embeds = []
    for c in captions:
        ids = tokenizer(c, truncation=True, max_length=tokenizer.model_max_length).input_ids
        text_embeds.append(text(input_ids=torch.tensor([ids])).pooler_output[0] @ text_projection.T)
    text_embeds = torch.stack(text_embeds)
    cosine = torch.nn.functional.normalize(image_embeds, dim=-1) @ torch.nn.functional.normalize(text_embeds, dim=-1).T
    assert (cosine.argmax(dim=1) == torch.arange(len(picks))).all(), f"easel-mini ranks a wrong caption first:\n{cosine}"
    with open(os.path.join(ROOT, "easel-mini", "reference.json"), "w") as f:
        json.dump({"images": [f"val-{i}.png" for i in picks], "captions": captions,
                   "image_embeds": [flat(e) for e in image_embeds], "text_embeds": [flat(e) for e in text_embeds],
                   "cosine": [flat(r) for r in cosine]}, f, indent=1)


def main():
    dataset_dir = next((sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "--dataset"), None)
    if dataset_dir is None:
        dataset_dir = next(d for d in (os.path.join(REPO, "training"), os.path.join(REPO, "..", "mini", "training"))
                           if os.path.exists(os.path.join(d, "dataset.py")))
    os.makedirs(os.path.join(ROOT, "easel-mini"), exist_ok=True)
    test_image(47, 31, seed=3).save(os.path.join(ROOT, "image-47x31.png"))
    test_image(20, 24, seed=4).save(os.path.join(ROOT, "image-20x24.png"))
    make_processor_cases(Image.open(os.path.join(ROOT, "image-47x31.png")))
    make_tiny_clip()
    make_easel_mini(dataset_dir)


if __name__ == "__main__":
    main()
