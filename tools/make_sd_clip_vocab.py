#!/usr/bin/env python3
# Derives CLIP's vocab.json and merges.txt from open_clip's bpe_simple_vocab_16e6.txt.gz, the file OpenAI's
# CLIP ships, built the way CLIP's SimpleTokenizer builds its table: 256 byte symbols, the same with "</w>",
# one token per merge (the first 49152 - 256 - 2 merges), then <|startoftext|> and <|endoftext|>: 49408 ids,
# the vocabulary of openai/clip-vit-large-patch14 (SD v1's tokenizer/). `merge_count` truncates the merges
# for tiny test tokenizers. Versions: open_clip_torch 3.3.0.
import gzip, json, os


def bytes_to_unicode():
    # GPT-2/CLIP: printable bytes map to themselves, the rest to 256+n, so every byte is a visible char.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def bpe_path():
    import importlib.util
    spec = importlib.util.find_spec("open_clip")
    return os.path.join(os.path.dirname(spec.origin), "bpe_simple_vocab_16e6.txt.gz")


def write_clip_vocab(directory, merge_count=49152 - 256 - 2):
    lines = gzip.open(bpe_path()).read().decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1:merge_count + 1]]
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    vocab += ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(directory, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")
    return len(vocab)


if __name__ == "__main__":
    import sys
    print(write_clip_vocab(sys.argv[1] if len(sys.argv) > 1 else "clip"))
