#!/usr/bin/env python3
# Makes Tests/TensorsTests/Fixtures/quant/dot_*: llama.cpp's own quantized dot products, to check that
# Easel's 8-bit activation kernels compute what llama.cpp computes (not only what gguf-py decodes).
# Made with llama-cpp-python 0.3.36 (its bundled libggml-cpu.so, built from source with
# GGML_NATIVE=OFF, AVX2/FMA/F16C), gguf 0.19.0 and numpy 2.4.6, by calling ggml's CPU kernels through
# ctypes: quantize_row_q8_0 / q8_1 / q8_K (the activation quantizers ggml's mul_mat uses) and
# ggml_vec_dot_<type>_<vec_dot_type> (the row dot products behind it).
#
# For each type: dot_<type>.blocks holds 4 rows of weight blocks (legacy types quantized from random
# floats by gguf-py, K-quants random bytes with moderate f16 scales), dot_<type>.x.f32 one activation
# row, dot_<type>.ggml.f32 llama.cpp's 4 dot products. dot_manifest.json lists them.
#
# model_rows.json: for the default model (models/SmolLM2-135M-Instruct.Q4_1.gguf, sha256 below) the
# byte offset of the first 16 rows of a Q4_1 and a Q8_0 tensor, FNV-1a-64 hashes of their raw bytes
# and of gguf-py's dequantization (float32 bits), and llama.cpp's dot products of those rows with
# x[k] = ((37·k) mod 101)/50 − 1. No weights are committed; the test reads them from the model file.
import ctypes
import hashlib
import json
import os

import numpy as np
import llama_cpp
from gguf.quants import GGML_QUANT_SIZES, GGMLQuantizationType as T, quantize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TensorsTests", "Fixtures", "quant")
LIB = os.path.join(os.path.dirname(llama_cpp.__file__), "lib", "libggml-cpu.so")
rng = np.random.default_rng(7)
ROWS = 4

ggml = ctypes.CDLL(LIB)
ggml.ggml_cpu_init()   # fills ggml's f16 tables; without it the kernels read zero scales
VEC_DOT = {T.Q4_0: "q4_0_q8_0", T.Q4_1: "q4_1_q8_1", T.Q5_0: "q5_0_q8_0", T.Q5_1: "q5_1_q8_1", T.Q8_0: "q8_0_q8_0",
           T.Q4_K: "q4_K_q8_K", T.Q5_K: "q5_K_q8_K", T.Q6_K: "q6_K_q8_K"}
ACT = {"q8_0": (T.Q8_0, "quantize_row_q8_0"), "q8_1": (T.Q8_1, "quantize_row_q8_1"), "q8_K": (T.Q8_K, "quantize_row_q8_K")}


def half_bytes(values):
    return np.asarray(values, dtype=np.float16).view(np.uint8).reshape(-1, 2)


def weights(qtype, cols):
    block, size = GGML_QUANT_SIZES[qtype]
    if block == 32:
        x = rng.standard_normal(ROWS * cols).astype(np.float32) * 0.05
        return quantize(x.reshape(ROWS, cols), qtype).reshape(ROWS, -1)
    raw = rng.integers(0, 256, size=(ROWS * cols // block, size), dtype=np.uint8)
    d = rng.uniform(1e-3, 0.02, len(raw)).astype(np.float32)
    if qtype == T.Q6_K:
        raw[:, -2:] = half_bytes(d)
    else:
        raw[:, 0:2] = half_bytes(d)
        raw[:, 2:4] = half_bytes(rng.uniform(1e-3, 0.02, len(raw)).astype(np.float32))
    return raw.reshape(ROWS, -1)


def main():
    files = []
    for qtype, name in VEC_DOT.items():
        block = GGML_QUANT_SIZES[qtype][0]
        cols = 512 if block == 256 else 256
        w = np.ascontiguousarray(weights(qtype, cols))
        x = rng.standard_normal(cols).astype(np.float32)
        act_type, quantizer = ACT[name.split("_", 2)[2]]
        act = np.zeros(cols // GGML_QUANT_SIZES[act_type][0] * GGML_QUANT_SIZES[act_type][1] + 64, dtype=np.uint8)
        q = getattr(ggml, quantizer)
        q.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        q(x.ctypes.data, act.ctypes.data, cols)
        dot = getattr(ggml, "ggml_vec_dot_" + name)
        dot.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        out = np.zeros(ROWS, dtype=np.float32)
        s = ctypes.c_float()
        for r in range(ROWS):
            row = np.ascontiguousarray(w[r])
            dot(cols, ctypes.byref(s), 0, row.ctypes.data, 0, act.ctypes.data, 0, 1)
            out[r] = s.value
        base = f"dot_{qtype.name.lower()}"
        w.tofile(os.path.join(OUT, base + ".blocks"))
        x.tofile(os.path.join(OUT, base + ".x.f32"))
        out.tofile(os.path.join(OUT, base + ".ggml.f32"))
        files.append({"type": qtype.name, "rows": ROWS, "cols": cols, "vec_dot": "ggml_vec_dot_" + name,
                      "block_file": base + ".blocks", "x_file": base + ".x.f32", "ggml_file": base + ".ggml.f32"})
    model_rows()
    with open(os.path.join(OUT, "dot_manifest.json"), "w") as f:
        json.dump({"generator": "tools/make_ggml_dot_fixtures.py", "llama_cpp_python": llama_cpp.__version__,
                   "files": files}, f, indent=1)
        f.write("\n")


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def model_rows():
    import gguf
    path = os.path.join(os.path.dirname(OUT), "..", "..", "..", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
    reader = gguf.GGUFReader(path)
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    tensors = []
    for name in ("blk.0.attn_q.weight", "token_embd.weight"):
        t = next(t for t in reader.tensors if t.name == name)
        cols = int(t.shape[0])
        rows = 16
        raw = np.ascontiguousarray(np.array(t.data)[:rows])
        values = gguf.quants.dequantize(raw.reshape(-1), t.tensor_type).astype(np.float32)
        x = (((37 * np.arange(cols)) % 101) / 50 - 1).astype(np.float32)
        name_dot = VEC_DOT[T(t.tensor_type)]
        act_type, quantizer = ACT[name_dot.split("_", 2)[2]]
        act = np.zeros(cols // 32 * GGML_QUANT_SIZES[act_type][1] + 64, dtype=np.uint8)
        getattr(ggml, quantizer)(x.ctypes.data, act.ctypes.data, cols)
        dot = getattr(ggml, "ggml_vec_dot_" + name_dot)
        s = ctypes.c_float()
        dots = []
        for r in range(rows):
            row = np.ascontiguousarray(raw[r])
            dot(cols, ctypes.byref(s), 0, row.ctypes.data, 0, act.ctypes.data, 0, 1)
            dots.append(float(s.value))
        tensors.append({"name": name, "type": T(t.tensor_type).name, "offset": int(t.data_offset), "rows": rows,
                        "cols": cols, "raw_fnv1a64": fnv1a64(raw.tobytes()), "dequant_fnv1a64": fnv1a64(values.tobytes()),
                        "ggml_dots": dots})
    with open(os.path.join(OUT, "model_rows.json"), "w") as f:
        json.dump({"generator": "tools/make_ggml_dot_fixtures.py", "model": "models/SmolLM2-135M-Instruct.Q4_1.gguf",
                   "sha256": sha, "x": "((37*k) % 101) / 50 - 1", "tensors": tensors}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
