#!/usr/bin/env python3
# Peer for `easel router bench`: scikit-learn's MultinomialNB on the same corpus, one thread.
# Versions used: scikit-learn 1.9.1, numpy 2.4.6, scipy 1.17.1 (Python 3).
# Features are scikit-learn's own (binary word unigrams and bigrams, CJK characters as 1-2 grams),
# close to Easel's but not identical, so this compares speed and gives a reference accuracy; it
# is not a parity check. Prints one JSON object.
import glob, json, os, statistics, sys, time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline
import sklearn

corpus = sys.argv[1] if len(sys.argv) > 1 else "router-corpus"
texts, labels = [], []
for path in sorted(glob.glob(os.path.join(corpus, "*.tsv"))):
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        label, category, previous, text = line.split("\t")
        # The previous route as a token, the nearest scikit-learn equivalent of Easel's context feature.
        texts.append(f"prev{previous.replace('-', 'none')} {text}")
        labels.append(label)

def tokens(text):
    out, words = [], []
    for word in text.lower().split():
        cjk = [c for c in word if "\u3040" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af"]
        if cjk:
            out += cjk + [a + b for a, b in zip(cjk, cjk[1:])]
        else:
            words.append(word)
    return out + words + [a + " " + b for a, b in zip(words, words[1:])]

def make():
    return make_pipeline(CountVectorizer(analyzer=tokens, binary=True), MultinomialNB(alpha=0.5))

train_times = []
for _ in range(30):
    start = time.perf_counter()
    model = make().fit(texts, labels)
    train_times.append(time.perf_counter() - start)

route_times = []
for _ in range(3):
    for text in texts:
        start = time.perf_counter()
        model.predict_proba([text])
        route_times.append(time.perf_counter() - start)
route_times.sort()

correct = 0
labels_array = np.array(labels)
for train, test in StratifiedKFold(n_splits=10, shuffle=True, random_state=0).split(texts, labels):
    fold = make().fit([texts[i] for i in train], labels_array[train])
    correct += int((fold.predict([texts[i] for i in test]) == labels_array[test]).sum())

print(json.dumps({
    "peer": f"scikit-learn {sklearn.__version__} MultinomialNB",
    "turns": len(texts),
    "train_ms_median": round(statistics.median(train_times) * 1e3, 2),
    "routings": len(route_times),
    "route_us_median": round(statistics.median(route_times) * 1e6, 2),
    "route_us_p99": round(route_times[int(0.99 * (len(route_times) - 1))] * 1e6, 2),
    "cv10_accuracy": round(correct / len(texts), 4),
}))
