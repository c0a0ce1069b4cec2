#!/usr/bin/env python3
"""Writes the tokenizer parity fixtures: what llama.cpp makes of each test string, for each vocabulary.

Versions used: Python 3.11.7, llama-cpp-python 0.3.36 (vendored llama.cpp commit 0c1e57098bba43ac29e6e3b677cdceebdd22334f).

Vocabularies:
  smollm2         models/SmolLM2-135M-Instruct.Q4_1.gguf (gpt2 model, smollm pre-tokenizer; fetched by scripts/setup.sh)
  spm-tiny, llama-bpe-tiny, gpt2-tiny, default-tiny
                  the small vocab-only GGUFs tools/make_tiny_vocabs.py builds next to the fixtures

For each vocabulary NAME this writes, into Tests/LLMTests/Fixtures/tokenizer/:
  tokenizer.inp        the test strings, separated by a line "__easel_vocab_test__" (shared by all vocabularies)
  NAME.out             per string, one line of ids: llama_tokenize(add_special=True, parse_special=True)
  NAME.plain.out       per string, one line of ids: llama_tokenize(add_special=False, parse_special=False)
  fuzz.inp, NAME.fuzz.out
                       300 seeded random strings from FUZZ_PIECES; per string one line "special ids | plain ids"
                       (add/parse_special true, then both false)
  NAME.json            vocabulary facts (size, BOS/EOS/EOT, end-of-generation ids, add_bos), detokenized text
                       for each string (llama_detokenize with remove_special/unparse_special both false and both
                       true, of the NAME.out ids; and of the NAME.plain.out ids with both false), and
                       llama_token_to_piece(special=True/False) as hex for a set of ids.
Run from the repository root: python3 tools/make_tokenizer_fixtures.py
"""
import ctypes
import hashlib
import json
import os
import sys

import random

import llama_cpp

FIXTURES = "Tests/LLMTests/Fixtures/tokenizer"
SEPARATOR = "\n__easel_vocab_test__\n"

# Kinds the issue asks for: unicode, emoji, CJK, accents, numbers, code, runs of spaces and newlines, leading
# spaces, contractions, special tokens. Several strings carry the special tokens of each vocabulary's family.
PROMPTS = [
    "",
    " ",
    "  ",
    "   ",
    "\t",
    "\n",
    "\n\n",
    "\n\n\n",
    "\t\n",
    "Hello world",
    " Hello world",
    "Hello World",
    " Hello World",
    " Hello World!",
    "Hello, world!",
    " this is 🦙.cpp",
    "w048 7tuijk dsdfhu",
    "нещо на Български",
    "កាន់តែពិសេសអាចខលចេញ",
    "🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅ (only emoji that has its own token)",
    "Hello",
    " Hello",
    "  Hello",
    "   Hello",
    "    Hello",
    "    Hello\n    Hello",
    " (",
    "\n =",
    "' era",
    "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～",
    "!!!!!!",
    "3",
    "33",
    "333",
    "3333",
    "33333",
    "333333",
    "3333333",
    "12345.678",
    "1,234,567.89 and -0.5e10",
    "Ⅻ ½ ² ٣٤٥ ١٢ 𝟙𝟚",
    "I'm sure you've heard they'll say we'd be fine, it's true: they're ok",
    "I'M SURE YOU'VE HEARD THEY'LL SAY WE'D",
    "don't 'quote' ''double'' ' lone",
    "café naïve résumé Ångström Straße",
    "e\u0301 vs \u00e9 vs E\u0301",
    "日本語のテキストと中文文本，还有한국어.",
    "Привет, мир! Καλημέρα κόσμε.",
    "مرحبا بالعالم",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "for (int i = 0; i < 10; ++i) {\n\tprintf(\"%d\\n\", i);\n}",
    "x = {'a': [1, 2, 3], \"b\": None}  # comment",
    "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\nYou are helpful.<|im_end|>",
    "text<|endoftext|>more text",
    "<|im_start|><|im_end|>",
    "<|im_start| not quite <|im_end",
    "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<tool>call</tool> <unk>",
    "trailing spaces   ",
    "   leading and trailing   ",
    "multiple\n\n\nnewlines\r\nand CRLF\r\n",
    "tabs\tand\t\tmore\t",
    "\u00a0non-breaking\u2009thin\u3000ideographic",
    "emoji 🦙🦙🦙 and flags 🇫🇷🇯🇵 and skin 👍🏽",
    "zero\u200bwidth\u200djoiner",
    "URL: https://example.com/path?q=1&r=2#frag",
    "email@example.com, @user #hashtag $100 50% ^_^ ~tilde~ |pipe| `code`",
    "ALL CAPS and MiXeD cAsE",
    "supercalifragilisticexpialidocious" * 3,
    "a" + " " * 20 + "b",
    "bell\u0007 escape\u001b[0m",
    "family 👩‍👩‍👧‍👦",
    "ﬁ ligature and ｆｕｌｌｗｉｄｔｈ",
    "∑_{i=1}^{n} x² ≤ ∞ ≠ √2",
    "Unicode 16 emoji \U0001FAE9 and Garay x\U00010D50y",
]


# Pieces the random strings are drawn from: every class the splitters treat differently, and the spots where
# llama.cpp's hand-written matchers differ from a plain regex engine (runs of spaces before text or at the end,
# CR/LF mixes, contractions in both cases, digits next to letters, special-token fragments).
FUZZ_PIECES = (
    list("abcXYZ019 \t\n\r'.,!?-_$+<=>^~|`@#%&*()[]{}\"") +
    [" ", "  ", "   ", "\n\n", "\r\n", " \n", "\t ", "'s", "'T", "'re", "'VE", "'ll", "'D", "'m", "'x",
     "é", "e\u0301", "ß", "Å", "ñ", "ø", "ı", "ǅ", "ﬁ", "日本", "中文", "한", "カ", "ـ", "ع", "ไทย", "अ", "ँ",
     "Ω", "ж", "Ⅻ", "½", "²", "٣", "𝟙", "\u00a0", "\u2009", "\u3000", "\u200b", "\u200d", "\u0085", "\u001c",
     "🦙", "👍🏽", "🇫🇷", "👩‍👩‍👧", "✨", "\U0001FAE9", "\U00010D50", "\uE000", "\u0007",
     "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|begin_of_text|>", "<s>", "</s>", "<unk>",
     "<tool>", "<|im_", "_start|>", "[INST]", "<<SYS>>", "12345.678", "1,000", "don't", "I'M", "hello", " world",
     "Hello", "    def", "\tx = 1\n", "http://a.b/c?d=e"])


def fuzz_prompts(count=300, seed=2026):
    rng = random.Random(seed)
    return ["".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(1, 24))) for _ in range(count)]


def tokenize(llm, text, add_special, parse_special):
    return llm.tokenize(text.encode("utf-8"), add_bos=add_special, special=parse_special)


def detokenize(vocab, ids, remove_special, unparse_special):
    arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
    size = 256
    while True:
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_detokenize(vocab, arr, len(ids), buf, size, remove_special, unparse_special)
        if n >= 0:
            return buf.raw[:n].decode("utf-8", errors="replace")
        size = -n + 1


def piece(vocab, token, special):
    buf = ctypes.create_string_buffer(512)
    n = llama_cpp.llama_token_to_piece(vocab, token, buf, 512, 0, special)
    assert n >= 0
    return buf.raw[:n].hex()


def write_fixtures(name, path):
    llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    n = llama_cpp.llama_vocab_n_tokens(vocab)
    with open(f"{FIXTURES}/{name}.fuzz.out", "w") as f:
        for p in fuzz_prompts():
            f.write(" ".join(map(str, tokenize(llm, p, True, True))) + " | " +
                    " ".join(map(str, tokenize(llm, p, False, False))) + "\n")
    out = [tokenize(llm, p, True, True) for p in PROMPTS]
    plain = [tokenize(llm, p, False, False) for p in PROMPTS]
    with open(f"{FIXTURES}/{name}.out", "w") as f:
        f.write("".join(" ".join(map(str, ids)) + "\n" for ids in out))
    with open(f"{FIXTURES}/{name}.plain.out", "w") as f:
        f.write("".join(" ".join(map(str, ids)) + "\n" for ids in plain))
    ids = list(range(n)) if n <= 4000 else sorted(set(range(400)) | set(range(400, n, 127)) | {n - 1})
    null = llama_cpp.LLAMA_TOKEN_NULL if hasattr(llama_cpp, "LLAMA_TOKEN_NULL") else -1
    def opt(x):
        return None if x == null else x
    facts = {
        "source": os.path.basename(path),
        "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
        "vocabulary_size": n,
        "bos": opt(llama_cpp.llama_vocab_bos(vocab)),
        "eos": opt(llama_cpp.llama_vocab_eos(vocab)),
        "eot": opt(llama_cpp.llama_vocab_eot(vocab)),
        "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab)),
        "end_of_generation": [i for i in range(n) if llama_cpp.llama_vocab_is_eog(vocab, i)],
        "decoded": [detokenize(vocab, t, False, False) for t in out],
        "decoded_special": [detokenize(vocab, t, True, True) for t in out],
        "decoded_plain": [detokenize(vocab, t, False, False) for t in plain],
        "piece_ids": ids,
        "pieces_special": [piece(vocab, i, True) for i in ids],
        "pieces_plain": [piece(vocab, i, False) for i in ids],
    }
    with open(f"{FIXTURES}/{name}.json", "w") as f:
        json.dump(facts, f, indent=0)
    print(name, n, "tokens,", sum(len(t) for t in out), "ids over", len(PROMPTS), "strings")


def main():
    assert len(PROMPTS) >= 60
    with open(f"{FIXTURES}/tokenizer.inp", "w") as f:
        f.write(SEPARATOR.join(PROMPTS))
    with open(f"{FIXTURES}/fuzz.inp", "w") as f:
        f.write(SEPARATOR.join(fuzz_prompts()))
    vocabularies = [("spm-tiny", f"{FIXTURES}/spm-tiny.gguf"), ("llama-bpe-tiny", f"{FIXTURES}/llama-bpe-tiny.gguf"),
                    ("gpt2-tiny", f"{FIXTURES}/gpt2-tiny.gguf"), ("default-tiny", f"{FIXTURES}/default-tiny.gguf")]
    smollm2 = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    if os.path.exists(smollm2):
        vocabularies.insert(0, ("smollm2", smollm2))
    else:
        print(f"{smollm2} missing: run scripts/setup.sh to fetch it; smollm2 fixtures not rewritten", file=sys.stderr)
    for name, path in vocabularies:
        write_fixtures(name, path)


if __name__ == "__main__":
    main()
