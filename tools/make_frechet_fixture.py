"""Reference Fréchet distances for Tests/EvaluationTests (FrechetDistanceTests).

  python3 tools/make_frechet_fixture.py      # writes Tests/EvaluationTests/Fixtures/frechet.json

The distance pytorch-fid and clean-fid compute between two sets of feature vectors:
  |mu1 - mu2|^2 + tr(S1 + S2 - 2 sqrtm(S1 S2)), S = np.cov(features, rowvar=False) (divisor n - 1),
with scipy.linalg.sqrtm, real part. Cases: full rank, fewer samples than dimensions (singular
covariances, as with few images and wide CLIP features), and identical sets (0).
Versions: numpy 2.4.6, scipy 1.17.1.
"""

import json
import os

import numpy as np
from scipy import linalg


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2)
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def main() -> None:
    rng = np.random.default_rng(5)
    cases = []
    for name, n1, n2, d in [("full_rank", 60, 50, 6), ("singular", 5, 7, 10)]:
        mix = rng.normal(size=(d, d))
        a = rng.normal(size=(n1, d)) @ mix
        b = rng.normal(size=(n2, d)) @ mix * 0.8 + 0.5
        a, b = a.astype(np.float32), b.astype(np.float32)
        cases.append({"name": name, "a": a.tolist(), "b": b.tolist(),
                      "distance": frechet(a.astype(np.float64), b.astype(np.float64))})
    a = rng.normal(size=(20, 4)).astype(np.float32)
    cases.append({"name": "identical", "a": a.tolist(), "b": a.tolist(), "distance": 0.0})
    out = os.path.join(os.path.dirname(__file__), "..", "Tests", "EvaluationTests", "Fixtures", "frechet.json")
    with open(out, "w") as f:
        json.dump({"cases": cases}, f)
    for c in cases:
        print(c["name"], c["distance"])


if __name__ == "__main__":
    main()
