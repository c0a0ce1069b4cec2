#!/usr/bin/env bash
# Router benchmark: training time over router-corpus/ and the latency of routing one turn (with its
# explanation), Easel against scikit-learn's MultinomialNB on the same corpus, one thread each.
# Writes bench/results/router.md (the lines for BENCHMARKS.md). Needs `pip install scikit-learn` for the peer;
# without it only Easel's numbers are written.
set -euo pipefail
cd "$(dirname "$0")/.."
export EASEL_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

swift build -c release -Xswiftc -enable-testing --product easel >/dev/null
easel_json=$(.build/release/easel router bench --corpus router-corpus --json)
eval_line=$(.build/release/easel router eval --corpus router-corpus | sed -n 2p)
peer_json=$(python3 bench/router_peer_sklearn.py router-corpus 2>/dev/null || echo '{}')

mkdir -p bench/results
python3 - "$easel_json" "$peer_json" "$eval_line" > bench/results/router.md <<'PY'
import json, os, platform, sys, datetime
easel, peer, accuracy = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3].split()[-1]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
print(f"## Router: naive Bayes over {easel['turns']} corpus turns ({datetime.date.today()}, {cpu}, 1 thread)")
print()
print("`bench/router_bench.sh`: training is the median of 30 runs over the whole corpus; routing is one turn")
print(f"with a 5-feature explanation each way, every corpus turn routed several times ({easel['routings']} Easel routings), median and p99.")
load = open("/proc/loadavg").read().split()[0]
print(f"Load average when it ran: {load} on {os.cpu_count()} cores; on a busy shared machine every number here is inflated.")
print()
if peer:
    print(f"| measure | Easel | {peer['peer']} | peer / Easel |")
    print("|---|---|---|---|")
    for name, key, unit in [("training over the corpus", "train_ms_median", "ms"),
                            ("routing one turn, median", "route_us_median", "µs"),
                            ("routing one turn, p99", "route_us_p99", "µs")]:
        print(f"| {name} | {easel[key]} {unit} | {peer[key]} {unit} | {peer[key] / easel[key]:.1f}x |")
    print(f"| 10-fold CV accuracy | {accuracy} | {peer['cv10_accuracy'] * 100:.1f}% | |")
else:
    print("| measure | Easel |")
    print("|---|---|")
    print(f"| training over the corpus | {easel['train_ms_median']} ms |")
    print(f"| routing one turn, median | {easel['route_us_median']} µs |")
    print(f"| routing one turn, p99 | {easel['route_us_p99']} µs |")
    print(f"| 10-fold CV accuracy | {accuracy} |")
PY
cat bench/results/router.md
