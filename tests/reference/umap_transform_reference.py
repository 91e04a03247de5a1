#!/usr/bin/env python3
"""umap-learn's own `transform` on the check in crates/bertopic-reduce/tests/transform.rs.

Fits umap-learn 0.5 (15 neighbours, 5 components, min_dist 0, cosine, 200 epochs) on the first
600 rows of shared/reference/hdbscan-reference-embeddings.json for several seeds, transforms the
first 100 training rows again, and records per seed what the Rust test measures: how many
re-placed points have their own fitted point among the 15 nearest fitted points, the median
distance to the own fitted point over the mean spread (distance from row i to row (7i+13) mod n),
and the trustworthiness (k=10) of the re-placed and of the fitted 100 points. The Rust test bounds
ours by these numbers instead of a hand-picked constant.

Run with the reference venv (umap-learn 0.5.12, scikit-learn):
  /tmp/bt-venv/bin/python tests/reference/umap_transform_reference.py \
      ../shared crates/bertopic-reduce/tests/data/umap-learn-transform.json
"""
import json
import os
import sys

import numpy as np
import sklearn
import umap
from sklearn.manifold import trustworthiness

SEEDS = [42, 0, 1, 2, 3]


def main(shared, out):
    with open(os.path.join(shared, "reference/hdbscan-reference-embeddings.json")) as f:
        x = np.array(json.load(f)["embeddings"], dtype=np.float32)[:600]
    runs = []
    for seed in SEEDS:
        m = umap.UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                      n_epochs=200, random_state=seed)
        emb = m.fit_transform(x)
        probe = x[:100]
        placed = m.transform(probe)
        n = len(emb)
        scale = float(np.mean([np.linalg.norm(emb[i] - emb[(i * 7 + 13) % n]) for i in range(n)]))
        own = np.linalg.norm(placed - emb[:100], axis=1)
        near = int(sum((np.linalg.norm(emb - placed[i], axis=1) < own[i]).sum() < 15
                       for i in range(100)))
        rel = np.sort(own / scale)
        runs.append({
            "seed": seed,
            "near15": near,
            "median_rel_distance": float(rel[50]),
            "trustworthiness_transformed": float(trustworthiness(probe, placed, n_neighbors=10)),
            "trustworthiness_fitted": float(trustworthiness(probe, emb[:100], n_neighbors=10)),
        })
        print(runs[-1])
    res = {
        "what": "umap-learn transform of 100 training rows after a fit on 600 (the check in "
                "crates/bertopic-reduce/tests/transform.rs); written by "
                "tests/reference/umap_transform_reference.py",
        "umap_learn": umap.__version__ if hasattr(umap, "__version__") else "0.5",
        "sklearn": sklearn.__version__,
        "params": {"n_neighbors": 15, "n_components": 5, "min_dist": 0.0, "metric": "cosine",
                   "n_epochs": 200, "rows": 600, "probe": 100},
        "runs": runs,
    }
    with open(out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
