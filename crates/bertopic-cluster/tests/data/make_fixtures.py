"""Regenerates hdbscan-extra.json: Python hdbscan 0.8.44 on the shared reference points with
non-default settings, and approximate_predict on perturbed copies of the points.

Run with the reference venv (see shared/reference/README.md):
    python make_fixtures.py ../../../../../shared/reference/hdbscan-reference.json hdbscan-extra.json
"""
import json
import sys
from importlib.metadata import version

import hdbscan
import numpy as np

ref = json.load(open(sys.argv[1]))
x = np.array(ref["points"], dtype=np.float64)

configs = [
    dict(name="leaf", min_cluster_size=10, cluster_selection_method="leaf"),
    dict(name="eom_eps_0.4", min_cluster_size=10, cluster_selection_epsilon=0.4),
    dict(name="leaf_eps_0.45", min_cluster_size=10, cluster_selection_method="leaf", cluster_selection_epsilon=0.45),
    dict(name="eom_min_samples_5", min_cluster_size=15, min_samples=5),
    dict(name="single_cluster_mcs_200", min_cluster_size=200, allow_single_cluster=True),
]
fits = []
for c in configs:
    kw = {k: v for k, v in c.items() if k != "name"}
    h = hdbscan.HDBSCAN(**kw).fit(x)
    fits.append(dict(name=c["name"], params=kw, labels=h.labels_.tolist(),
                     probabilities=[round(float(p), 7) for p in h.probabilities_],
                     n_clusters=int(h.labels_.max() + 1), n_outliers=int((h.labels_ == -1).sum())))

# approximate_predict with the reference settings on perturbed points.
h = hdbscan.HDBSCAN(min_cluster_size=10, prediction_data=True).fit(x)
rng = np.random.default_rng(0)
idx = rng.choice(len(x), 300, replace=False)
scale = np.repeat([0.02, 0.1, 0.3], 100)[:, None]
queries = x[idx] + rng.normal(size=(300, x.shape[1])) * scale
queries = np.round(queries, 6)
labels, probs = hdbscan.approximate_predict(h, queries)
train_labels, train_probs = hdbscan.approximate_predict(h, x)

json.dump(dict(
    what="Python hdbscan on shared/reference/hdbscan-reference.json points: other settings, and approximate_predict",
    producer="crates/bertopic-cluster/tests/data/make_fixtures.py",
    versions=dict(hdbscan=version("hdbscan"), numpy=np.__version__),
    tolerance=dict(
        fits="as the shared reference: ARI >= 0.95 vs labels, n_clusters within +-1, n_outliers within +-2% of n_points",
        predict="labels mapped through the fit (each Rust cluster to the Python cluster it overlaps most): agreement >= 0.95 on queries; probabilities mean |delta| <= 0.05 where labels agree",
    ),
    fits=fits,
    predict=dict(fit_labels=h.labels_.tolist(), queries=queries.tolist(), labels=labels.tolist(),
                 probabilities=[round(float(p), 7) for p in probs],
                 train_labels=train_labels.tolist(),
                 train_probabilities=[round(float(p), 7) for p in train_probs]),
), open(sys.argv[2], "w"))
for f in fits:
    print(f["name"], f["n_clusters"], f["n_outliers"])
print("predict: noise", int((labels == -1).sum()), "train agreement", float(np.mean(train_labels[h.labels_ >= 0] == h.labels_[h.labels_ >= 0])))
