#!/usr/bin/env bash
# Stable Diffusion benchmark: `easel bench sd` against diffusers/PyTorch on the CPU, same thread count and shapes
# (SD v1.4-shaped random fp16 weights from tools/make_sd_bench_model.py; batch 2 for guidance, 64x64 latents,
# 77 text positions), the two alternating ROUNDS times, medians of the rounds. Then one whole 512x512 20-step
# generation by Easel for its time and peak RSS. Writes bench/results/sd.md (the lines for BENCHMARKS.md).
# Usage: bench/sd_bench.sh [ROUNDS]   (THREADS defaults to the core count; FULL_STEPS to 20: the whole generation's
# step count, whose peak RSS is the memory target; fewer steps give the same peak, sooner)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=${THREADS:-$(nproc)}
export EASEL_THREADS=$threads OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
model=bench/work/sd14-random
if [ -z "${REPORT_ONLY:-}" ]; then
    [ -f "$model/model_index.json" ] || python3 tools/make_sd_bench_model.py "$model"
    swift build -c release -Xswiftc -enable-testing --product easel >/dev/null
fi

mkdir -p bench/work bench/results
if [ -z "${REPORT_ONLY:-}" ]; then   # REPORT_ONLY=1 rewrites sd.md from the last run's bench/work/*.json*
    : > bench/work/sd_easel.jsonl
    : > bench/work/sd_torch.jsonl
    for i in $(seq "$rounds"); do
        .build/release/easel bench sd --model "$model" --runs 1 --json >> bench/work/sd_easel.jsonl
        python3 bench/sd_peer_diffusers.py "$model" "$threads" 1 2>/dev/null | tail -1 >> bench/work/sd_torch.jsonl
    done
    .build/release/easel bench sd --model "$model" --runs 1 --full-steps "${FULL_STEPS:-20}" --json > bench/work/sd_full.json
fi

python3 - "$threads" > bench/results/sd.md <<'PY'
import json, os, platform, statistics, sys, datetime
threads = sys.argv[1]
easel = [json.loads(l) for l in open("bench/work/sd_easel.jsonl")]
torch_ = [json.loads(l) for l in open("bench/work/sd_torch.jsonl")]
full = json.load(open("bench/work/sd_full.json"))
med = statistics.median
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
print(f"## Stable Diffusion v1.4 shapes ({datetime.date.today()}, {cpu}, {threads} threads)")
print()
print(f"`bench/sd_bench.sh`: random fp16 SD-v1.4-shaped weights; {len(easel)} alternating rounds, medians. UNet step: batch 2")
print("(classifier-free guidance), 64x64 latents, 77 text positions. VAE decode: one 64x64 latent to 512x512.")
print(f"PyTorch {torch_[0].get('torch', '?')} runs diffusers in float32 (weights widened at load); Easel keeps fp16 weights mapped.")
print(f"Load average when it ran: {open('/proc/loadavg').read().split()[0]} on {os.cpu_count()} cores.")
print()
print("| part | Easel | PyTorch | Easel / PyTorch |")
print("|---|---|---|---|")
for name, key in [("CLIP text encoding", "text_encode_s"), ("UNet step (batch 2)", "unet_step_s"), ("VAE decode", "vae_decode_s")]:
    e, t = med([r[key] for r in easel]), med([r[key] for r in torch_])
    print(f"| {name} | {e:.3f} s | {t:.3f} s | {e / t:.2f}x |")
print(f"| peak RSS (bench process) | {med([r['peak_rss_mb'] for r in easel]):.0f} MB | {med([r['peak_rss_mb'] for r in torch_]):.0f} MB | |")
print()
print(f"Whole 512x512 generation, {full['generate_steps']} PNDM steps with guidance (fp16 weights mapped): {full['generate_s']:.1f} s, "
      f"peak RSS {full['peak_rss_mb']:.0f} MB (this process also ran the timed parts first).")
PY
cat bench/results/sd.md
