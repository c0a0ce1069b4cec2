#!/usr/bin/env python3
"""Builds the small tokenizer vocabularies Easel's tokenizer tests run against, made here from scratch.

Versions used: Python 3.11.7, sentencepiece 0.2.3, tokenizers 0.23.3, gguf (gguf-py) 0.19.0.

Writes into Tests/LLMTests/Fixtures/tokenizer/:
  spm-tiny.gguf          SentencePiece BPE with byte fallback (tokenizer.ggml.model = "llama"), the LLaMA-2 kind:
                         trained by sentencepiece on the corpus below, with two control and one user-defined token.
  llama-bpe-tiny.gguf    byte-level BPE trained by HF tokenizers with the LLaMA-3 split regex
                         (tokenizer.ggml.model = "gpt2", tokenizer.ggml.pre = "llama-bpe") and LLaMA-3's special tokens.
  gpt2-tiny.gguf         the same vocabulary with tokenizer.ggml.pre = "gpt-2" (GPT-2 split).
  default-tiny.gguf      the same vocabulary with no tokenizer.ggml.pre (llama.cpp's "default" split).
  llama-bpe-tiny.tokenizer.json   the HF tokenizer.json the byte-level vocabulary came from.
  bad-token-list.gguf             tokenizer.ggml.tokens stored as integers: GGUFVocabulary must refuse it by name.
  spm-tiny.tokenizer.json         a LLaMA-2-style HF tokenizer.json (BPE, byte_fallback, "▁" Prepend/Replace
                                  normalizer) written from the SentencePiece model, as transformers' converter lays it out.
  *.tokenizer_config.json         the matching tokenizer_config.json (BOS/EOS/UNK names, add_bos, chat template).

The GGUFs hold metadata only, plus the few llama.* keys llama.cpp needs to open a file with vocab_only=True,
and one 1-element tensor, so that tools/make_tokenizer_fixtures.py can run llama.cpp on them.
Run from the repository root: python3 tools/make_tiny_vocabs.py
"""
import inspect
import json
import os
import tempfile

import gguf
import numpy as np
import sentencepiece as spm
from make_chat_fixtures import LLAMA2, LLAMA3
from tokenizers import Regex, Tokenizer, models, pre_tokenizers, decoders, trainers

OUT = "Tests/LLMTests/Fixtures/tokenizer"

# Multilingual text written for this corpus, so the vocabularies hold accented, Cyrillic, Greek and CJK pieces.
MULTILINGUAL = """
Le café est très chaud ce matin, mais l'été approche et les élèves préparent leurs examens.
Où est la bibliothèque ? À côté de la gare, près du théâtre. Ça coûte quarante-deux euros.
Die Straße ist nass, weil es regnet. Grüße aus München! Das Mädchen öffnet die Tür.
El niño comió una manzana y dijo: ¿dónde está mi señal? ¡Qué año tan extraño!
Привет, как дела? Сегодня хорошая погода, и мы идём в парк.
Καλημέρα, τι κάνεις; Η θάλασσα είναι ήρεμη σήμερα.
今天天气很好，我们去公园散步吧。我喜欢学习中文和编程。
東京は日本の首都です。私は毎朝コーヒーを飲みます。
서울은 한국의 수도입니다. 오늘은 날씨가 좋아요.
The llama 🦙 and the alpaca 🐪 met a dragon 🐉 under the stars ✨ at 3:45 pm.
Prices rose 12.5% to $1,234.56 in Q3 2024; the index fell -0.25 points (≈ 0.3 %).
"""


def corpus_text():
    """English prose and code: the docstrings and source of a few standard-library modules, plus the text above."""
    import argparse, collections, json as js, textwrap, string, difflib, csv, http.client
    parts = [MULTILINGUAL * 20]
    for mod in (argparse, collections, js, textwrap, string, difflib, csv, http.client):
        parts.append(inspect.getsource(mod))
    return "\n".join(parts)


def write_gguf(path, fields):
    w = gguf.GGUFWriter(path, "llama")
    # llama.cpp reads these hyper-parameters even for vocab_only loads.
    w.add_context_length(256)
    w.add_embedding_length(8)
    w.add_block_count(1)
    w.add_feed_forward_length(16)
    w.add_head_count(1)
    w.add_head_count_kv(1)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(8)
    for key, (kind, value) in fields.items():
        if kind == "str":
            w.add_string(key, value)
        elif kind == "u32":
            w.add_uint32(key, value)
        elif kind == "bool":
            w.add_bool(key, value)
        elif kind == "arr":
            w.add_array(key, value)
        elif kind == "f32arr":
            w.add_array(key, [float(x) for x in value])
        elif kind == "i32arr":
            w.add_key_value(key, [int(x) for x in value], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.INT32)
    w.add_tensor("token_embd.weight", np.zeros((1,), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def build_spm(text):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "corpus.txt")
        with open(src, "w") as f:
            f.write(text)
        prefix = os.path.join(d, "spm")
        spm.SentencePieceTrainer.train(
            input=src, model_prefix=prefix, model_type="bpe", vocab_size=1200, byte_fallback=True,
            character_coverage=0.9995, split_digits=True, allow_whitespace_only_pieces=True,
            remove_extra_whitespaces=False, normalization_rule_name="identity",
            control_symbols=["<|im_start|>", "<|im_end|>"], user_defined_symbols=["<tool>"],
            unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=1, minloglevel=2,
            max_sentence_length=1 << 20, input_sentence_size=0)
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        if sp.is_unknown(i):
            types.append(2)
        elif sp.is_control(i):
            types.append(3)
        elif sp.is_byte(i):
            types.append(6)
        elif sp.is_unused(i):
            types.append(5)
        elif tokens[-1] == "<tool>":
            types.append(4)
        else:
            types.append(1)
    write_gguf(f"{OUT}/spm-tiny.gguf", {
        "tokenizer.ggml.model": ("str", "llama"),
        "tokenizer.ggml.tokens": ("arr", tokens),
        "tokenizer.ggml.scores": ("f32arr", scores),
        "tokenizer.ggml.token_type": ("i32arr", types),
        "tokenizer.ggml.bos_token_id": ("u32", 1),
        "tokenizer.ggml.eos_token_id": ("u32", 2),
        "tokenizer.ggml.unknown_token_id": ("u32", 0),
        "tokenizer.ggml.add_bos_token": ("bool", True),
        "tokenizer.ggml.add_eos_token": ("bool", False),
    })
    write_spm_tokenizer_json(tokens, scores, types)


def write_spm_tokenizer_json(tokens, scores, types):
    """LLaMA-2's tokenizer.json layout: BPE over "▁"-escaped text, byte_fallback, merges ordered by score."""
    vocab = {t: i for i, t in enumerate(tokens)}
    # Merges as transformers' SentencePiece converter derives them: every split of a piece into two pieces,
    # ordered by the merged piece's score (higher first), then by the pieces' ids.
    merges = []
    for piece, pid in vocab.items():
        if types[pid] != 1:
            continue
        for k in range(1, len(piece)):
            left, right = piece[:k], piece[k:]
            if left in vocab and right in vocab and types[vocab[left]] == 1 and types[vocab[right]] == 1:
                merges.append((scores[pid], vocab[left], vocab[right], left, right))
    merges.sort(key=lambda m: (-m[0], m[1], m[2]))
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": types[i] == 4, "special": types[i] in (2, 3)}
             for i, t in enumerate(tokens) if types[i] in (2, 3, 4)]
    doc = {
        "version": "1.0",
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
        "pre_tokenizer": None,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": [[m[3], m[4]] for m in merges]},
    }
    with open(f"{OUT}/spm-tiny.tokenizer.json", "w") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
    with open(f"{OUT}/spm-tiny.tokenizer_config.json", "w") as f:
        json.dump({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True,
                   "add_eos_token": False, "chat_template": LLAMA2}, f, indent=1)


LLAMA3_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]


def build_byte_level(text):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=3000, min_frequency=2, special_tokens=LLAMA3_SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(text.splitlines(keepends=True), trainer)
    path = f"{OUT}/llama-bpe-tiny.tokenizer.json"
    tok.save(path)
    with open(f"{OUT}/llama-bpe-tiny.tokenizer_config.json", "w") as f:
        json.dump({"bos_token": {"__type": "AddedToken", "content": "<|begin_of_text|>"}, "eos_token": "<|end_of_text|>",
                   "add_bos_token": True, "chat_template": LLAMA3}, f, indent=1)
    doc = json.load(open(path))
    vocab = doc["model"]["vocab"]
    tokens = [None] * len(vocab)
    for t, i in vocab.items():
        tokens[i] = t
    merges = [m if isinstance(m, str) else " ".join(m) for m in doc["model"]["merges"]]
    types = [3 if t in LLAMA3_SPECIALS else 1 for t in tokens]
    for name, pre in (("llama-bpe-tiny", "llama-bpe"), ("gpt2-tiny", "gpt-2"), ("default-tiny", None)):
        fields = {
            "tokenizer.ggml.model": ("str", "gpt2"),
            "tokenizer.ggml.tokens": ("arr", tokens),
            "tokenizer.ggml.token_type": ("i32arr", types),
            "tokenizer.ggml.merges": ("arr", merges),
            "tokenizer.ggml.bos_token_id": ("u32", tokens.index("<|begin_of_text|>")),
            "tokenizer.ggml.eos_token_id": ("u32", tokens.index("<|end_of_text|>")),
        }
        if pre is not None:
            fields["tokenizer.ggml.pre"] = ("str", pre)
        if name == "llama-bpe-tiny":
            fields["tokenizer.ggml.add_bos_token"] = ("bool", True)
        write_gguf(f"{OUT}/{name}.gguf", fields)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    text = corpus_text()
    build_spm(text)
    build_byte_level(text)
    write_gguf(f"{OUT}/bad-token-list.gguf", {
        "tokenizer.ggml.model": ("str", "gpt2"),
        "tokenizer.ggml.tokens": ("i32arr", [1, 2, 3]),
    })
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))
