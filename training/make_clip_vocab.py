"""Derive CLIP's vocab.json and merges.txt from the BPE file open_clip ships.

Made with open-clip-torch==3.3.0 (`pip install --no-deps open-clip-torch==3.3.0`), ftfy==6.3.1,
transformers==5.24.0. The construction is the one OpenAI's CLIP tokenizer uses:
  * the first 49152 - 256 - 2 merges of bpe_simple_vocab_16e6.txt.gz (line 0 is a header);
  * vocab = the 256 byte characters (GPT-2 byte-to-unicode map), the same with "</w>",
    one token per merge (the concatenated pair), then <|startoftext|> and <|endoftext|>:
    49408 ids in all.
The script then checks transformers.CLIPTokenizer built from the two files against
open_clip's SimpleTokenizer on a set of captions and exits non-zero on any difference.

  python training/make_clip_vocab.py --out easel-mini/tokenizer
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable unicode characters."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = keep[:]
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(keep, chars)}


def build(bpe_path: str) -> tuple[dict[str, int], list[str]]:
    with gzip.open(bpe_path, "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    merges = lines[1 : 49152 - 256 - 2 + 1]
    pairs = [tuple(m.split()) for m in merges]
    byte_chars = list(bytes_to_unicode().values())
    tokens = byte_chars + [c + "</w>" for c in byte_chars] + ["".join(p) for p in pairs]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    if len(vocab) != 49408:
        raise SystemExit(f"expected 49408 distinct tokens, got {len(vocab)} from {len(tokens)}")
    return vocab, merges


CHECK_CAPTIONS = [
    "a red circle on a blue background",
    "big yellow star in the top left corner, green background",
    "a small purple heart to the right of an orange square",
    "there is a big white cross in the lower right and the background is black",
    "A Picture Of An Orange Triangle!!  at the center",
    "",
]


def open_clip_tokenizer():
    """open_clip/tokenizer.py loaded on its own: `import open_clip` pulls in torchvision,
    which the tokenizer does not need (it needs ftfy and regex)."""
    import importlib.util

    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("open_clip not found: pip install --no-deps open-clip-torch==3.3.0 ftfy==6.3.1")
    path = os.path.join(list(spec.submodule_search_locations)[0], "tokenizer.py")
    module_spec = importlib.util.spec_from_file_location("open_clip_tokenizer", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def main() -> None:
    ref_module = open_clip_tokenizer()
    default_bpe = ref_module.default_bpe()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bpe", default=default_bpe)
    p.add_argument("--out", required=True)
    p.add_argument("--max-length", type=int, default=32, help="model_max_length of the tokenizer")
    args = p.parse_args()

    vocab, merges = build(args.bpe)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(args.out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    config = {
        "tokenizer_class": "CLIPTokenizer",
        "model_max_length": args.max_length,
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "do_lower_case": True,
        "errors": "replace",
        "add_prefix_space": False,
    }
    with open(os.path.join(args.out, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(args.out, "special_tokens_map.json"), "w") as f:
        json.dump({k: config[k] for k in ("bos_token", "eos_token", "unk_token", "pad_token")}, f, indent=2)

    from transformers import CLIPTokenizer

    ours = CLIPTokenizer(os.path.join(args.out, "vocab.json"), os.path.join(args.out, "merges.txt"))
    ref = ref_module.SimpleTokenizer(args.bpe)
    bad = 0
    for text in CHECK_CAPTIONS:
        a = ours(text)["input_ids"]
        b = [ref.sot_token_id] + ref.encode(text) + [ref.eot_token_id]
        status = "ok" if a == b else "MISMATCH"
        bad += a != b
        print(f"{status}: {text!r} -> {a}" + ("" if a == b else f" vs open_clip {b}"))
    if bad:
        sys.exit(f"{bad} caption(s) tokenised differently")
    print(f"wrote vocab.json ({len(vocab)} tokens) and merges.txt ({len(merges)} merges) to {args.out}")


if __name__ == "__main__":
    main()
