#!/usr/bin/python3
"""Times scikit-learn's KSG-1 (_compute_mi_cc, the estimator behind mutual_info_regression)
per pair at S samples on one core. Prints one JSON line: {"seconds_per_pair": ..., "pairs": ...}.
Usage: python3 bench/sklearnKsg.py [S] [pairs]"""
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
from sklearn.feature_selection._mutual_info import _compute_mi_cc  # noqa: E402

S = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
PAIRS = int(sys.argv[2]) if len(sys.argv) > 2 else 8
rng = np.random.default_rng(1)
cols = [rng.standard_normal(S) for _ in range(PAIRS + 1)]
_compute_mi_cc(cols[0], cols[1], 3)  # warm up
t0 = time.process_time()
for i in range(PAIRS):
    _compute_mi_cc(cols[i], cols[i + 1], 3)
dt = time.process_time() - t0
print(json.dumps({"seconds_per_pair": dt / PAIRS, "pairs": PAIRS, "samples": S}))
