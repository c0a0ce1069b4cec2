#!/usr/bin/env python3
# The PyTorch side of bench/sd_bench.sh: diffusers 0.42.1 / torch 2.15.0 on the CPU in float32 (fp16 weights
# widened at load, as `torch_dtype=torch.float32` does), timing the same parts with the same shapes as
# `easel bench sd`: one prompt through CLIP, one UNet call on batch 2 (guidance) at 64x64 latents with 77 text
# positions, one VAE decode of 64x64 latents. Prints one JSON object.
import json, resource, sys, time
import torch


def main():
    model, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    from diffusers import StableDiffusionPipeline
    t0 = time.perf_counter()
    pipe = StableDiffusionPipeline.from_pretrained(model, torch_dtype=torch.float32, safety_checker=None,
                                                   requires_safety_checker=False)
    load = time.perf_counter() - t0
    g = torch.Generator().manual_seed(0)
    size = pipe.unet.config.sample_size
    latents = torch.randn(2, 4, size, size, generator=g)
    states = torch.randn(2, 77, pipe.unet.config.cross_attention_dim, generator=g)
    z = torch.randn(1, 4, size, size, generator=g)
    text, unet, decode = [], [], []
    with torch.inference_mode():
        for _ in range(runs):
            a = time.perf_counter()
            ids = pipe.tokenizer("a photograph of an astronaut riding a horse on the moon, detailed, 8k",
                                 padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
            pipe.text_encoder(ids)
            text.append(time.perf_counter() - a)
            a = time.perf_counter()
            pipe.unet(latents, 999, encoder_hidden_states=states)
            unet.append(time.perf_counter() - a)
            a = time.perf_counter()
            pipe.vae.decode(z)
            decode.append(time.perf_counter() - a)
    med = lambda xs: sorted(xs)[len(xs) // 2]
    print(json.dumps({"load_s": load, "text_encode_s": med(text), "unet_step_s": med(unet), "vae_decode_s": med(decode),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "threads": threads,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
