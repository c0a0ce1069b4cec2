"""One-object shape accuracy of an `easel eval images --save DIR` run, split by whether the caption's
colour-shape pair was held out of training, and what each held-out pair was drawn as.

Pairs each caption's object with what the analyser read (DIR/analysis.jsonl) by Easel's own rule
(Sources/Evaluation/Scorecard.swift: same colour and shape, else same colour, else the first left), so the two
parts add up to the run's one-object shape count.

  easel eval images --clip none --save /tmp/run
  python3 training/split_analysis.py easel-mini/eval/heldout.jsonl /tmp/run/analysis.jsonl

With --write-subsets DIR instead of an analysis file, writes the one-object captions of each kind to
DIR/heldout_pairs.jsonl and DIR/seen_pairs.jsonl, to draw each on its own (`easel eval images --captions`).
"""

from __future__ import annotations

import argparse
import collections
import json
import os


def matched_shape(wanted: dict, seen: list[dict]) -> str:
    rules = (lambda o: o["colour"] == wanted["colour"] and o["shape"] == wanted["shape"],
             lambda o: o["colour"] == wanted["colour"], lambda o: True)
    for rule in rules:
        found = next((o for o in seen if rule(o)), None)
        if found:
            return found["shape"]
    return "nothing"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("captions", help="the --captions file of the run (default of easel eval: easel-mini/eval/heldout.jsonl)")
    p.add_argument("analysis", nargs="?", help="analysis.jsonl that --save wrote")
    p.add_argument("--write-subsets", metavar="DIR")
    args = p.parse_args()
    with open(args.captions) as f:
        lines = [line for line in f if line.strip()]
    truths = [json.loads(line) for line in lines]
    if args.write_subsets:
        os.makedirs(args.write_subsets, exist_ok=True)
        for name, held in (("heldout_pairs", True), ("seen_pairs", False)):
            with open(os.path.join(args.write_subsets, name + ".jsonl"), "w") as f:
                f.writelines(line if line.endswith("\n") else line + "\n" for line, t in zip(lines, truths)
                             if len(t["objects"]) == 1 and t["objects"][0]["heldout_combo"] == held)
        return
    if not args.analysis:
        p.error("give an analysis.jsonl, or --write-subsets DIR")
    with open(args.analysis) as f:
        seen = [json.loads(line) for line in f if line.strip()]
    right, total = collections.Counter(), collections.Counter()
    drawn = collections.defaultdict(collections.Counter)
    for line in seen:
        truth = truths[line["index"]]
        if truth["caption"] != line["caption"]:
            raise SystemExit(f"line {line['index']}: caption {line['caption']!r} is not {truth['caption']!r}: other captions file?")
        if len(truth["objects"]) != 1:
            continue
        wanted = truth["objects"][0]
        shape = matched_shape(wanted, line["seen"]["objects"])
        kind = "held-out pair" if wanted["heldout_combo"] else "seen pair"
        total[kind] += 1
        right[kind] += shape == wanted["shape"]
        if wanted["heldout_combo"]:
            drawn[f"{wanted['colour']} {wanted['shape']}"][shape] += 1
    for kind in total:
        print(f"{kind}: shape {right[kind]}/{total[kind]} = {100 * right[kind] / total[kind]:.1f}%")
    for pair, counts in drawn.items():
        print(f"  {pair}: " + ", ".join(f"{shape} {n}" for shape, n in counts.most_common()))


if __name__ == "__main__":
    main()
