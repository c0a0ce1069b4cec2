#!/usr/bin/env python3
# Makes Tests/TensorsTests/Fixtures/quant/: GGUF quant blocks and gguf-py's dequantization of them.
# Made with gguf 0.19.0 (gguf-py, gguf/quants.py) and numpy 2.4.6 on Python 3.11.
#
# For each type, <type>.blocks holds raw block bytes exactly as a GGUF file stores them and
# <type>.f32 holds gguf.quants.dequantize of those bytes (little-endian float32). Types gguf-py can
# quantize (Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 BF16; F16 through numpy) get blocks quantized from seeded random
# floats; the K-quants, which gguf-py can only dequantize, get seeded random block bytes whose f16
# scale fields are finite and moderate. q8_0_quantize.{input.f32,blocks} pins gguf-py's Q8_0
# quantizer (bit-exact with ggml's quantize_row_q8_0_ref) for the activation quantizer's test.
# manifest.json lists every file with its type, block count and element count.
import json
import os
import sys

import numpy as np
import gguf
from gguf.quants import GGML_QUANT_SIZES, GGMLQuantizationType as T, dequantize, quantize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TensorsTests", "Fixtures", "quant")
rng = np.random.default_rng(20261124)


def random_floats(n):
    # A mix of scales so blocks see small, large and all-same-sign ranges.
    x = rng.standard_normal(n).astype(np.float32)
    x *= np.repeat(rng.choice(np.array([0.01, 0.5, 3.0, 40.0], dtype=np.float32), n // 32 + 1), 32)[:n]
    x[32:64] = np.abs(x[32:64])   # one block with no negative values (min > 0 for the _1 types)
    x[64:96] = 0.0                # one all-zero block (d = 0 path)
    return x


def half_bytes(values):
    return np.asarray(values, dtype=np.float16).view(np.uint8).reshape(-1, 2)


def random_k_blocks(qtype, n_blocks):
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    # Moderate scales, one negative, one zero and one subnormal, so every decode path is exercised.
    d = rng.uniform(1e-3, 0.2, n_blocks).astype(np.float32)
    d[1] = -d[1]
    d[2] = 0.0
    d[3] = 3.0e-6   # subnormal in f16
    m = rng.uniform(1e-3, 0.2, n_blocks).astype(np.float32)
    if qtype in (T.Q4_K, T.Q5_K):   # d, dmin first
        raw[:, 0:2] = half_bytes(d)
        raw[:, 2:4] = half_bytes(m)
    elif qtype == T.Q6_K:           # ql, qh, scales (int8), d last
        raw[:, -2:] = half_bytes(d)
    else:
        raise ValueError(qtype)
    return raw


def write(name, array):
    path = os.path.join(OUT, name)
    np.ascontiguousarray(array).tofile(path)
    return name


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = []
    n_blocks = 8
    for qtype in (T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q4_K, T.Q5_K, T.Q6_K, T.F16, T.BF16):
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        if qtype in (T.Q4_K, T.Q5_K, T.Q6_K):
            blocks = random_k_blocks(qtype, n_blocks)
        elif qtype == T.F16:
            x = random_floats(n_blocks * 32)
            x[:6] = [np.inf, -np.inf, -0.0, 6.0e-8, 1.0e-5, 65504.0]   # specials: subnormals, max
            blocks = quantize(x, qtype).view(np.uint8).reshape(-1, type_size)
        elif qtype == T.BF16:
            x = random_floats(n_blocks * 32)
            x[:5] = [np.inf, -np.inf, -0.0, 1.0e-40, 3.0e38]
            blocks = quantize(x, qtype).reshape(-1, type_size)
        else:
            blocks = quantize(random_floats(n_blocks * block_size), qtype).reshape(-1, type_size)
        values = dequantize(blocks.reshape(-1), qtype).astype(np.float32).reshape(-1)
        assert np.all(np.isfinite(values) | np.isinf(values)), qtype.name
        name = qtype.name.lower()
        manifest.append({
            "type": qtype.name, "ggml_type": int(qtype), "block_size": block_size, "type_size": type_size,
            "blocks": len(blocks), "elements": int(values.size),
            "block_file": write(f"{name}.blocks", blocks), "float_file": write(f"{name}.f32", values),
        })

    x = random_floats(4 * 32)
    # First block: amax 127 makes d = 1 exactly, so 2.5, -3.5 and 0.5 are ties that roundf sends away
    # from zero (nearest-even would give 2, -4, 0).
    x[0:32] = np.linspace(-20, 20, 32, dtype=np.float32)
    x[0:4] = [127.0, 2.5, -3.5, 0.5]
    q = quantize(x, T.Q8_0)
    manifest.append({
        "type": "Q8_0", "purpose": "quantize", "blocks": 4, "elements": int(x.size),
        "input_file": write("q8_0_quantize.input.f32", x), "block_file": write("q8_0_quantize.blocks", q),
    })
    sizes = {t.name: list(GGML_QUANT_SIZES[t]) for t in (T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1,
                                                       T.Q8_0, T.Q8_1, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_K)}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"generator": "tools/make_quant_fixtures.py", "gguf": "0.19.0", "numpy": np.__version__,
                   "quant_sizes": sizes, "files": manifest}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(manifest)} fixtures to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
