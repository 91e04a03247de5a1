#!/usr/bin/env python3
"""Reference topic mappings of BERTopic 0.17.4's merge_models, for
crates/bertopic/tests/merge_manual.rs (merge_mapping_matches_bertopic).

Regenerate (not needed for the tests: the JSON is committed; CI has no Python):

    /tmp/bt-venv/bin/pip install bertopic==0.17.4 --no-deps   # see make_analysis_reference.py
    /tmp/bt-venv/bin/pip install safetensors                  # merge_models saves through it
    /tmp/bt-venv/bin/python tests/reference/make_merge_reference.py \
        ../shared/data tests/reference/merge-bertopic.json

merge_models only looks at each model's topics, doc topics and topic embeddings, so fitting UMAP
and HDBSCAN is left out (their randomness would make both sides differ for reasons unrelated to
the merge). Three "models" are built from three disjoint blocks of 1,500 rows of
arxiv-cs-abstracts.minilm.npy (rows 0-1499, 1500-2999, 3000-4499): k-means (k = 8, 6, 10,
scikit-learn, random_state 0) on each block, clusters renumbered by size, the 10 % of documents
farthest from their centre made outliers (-1); topic embeddings are the mean embedding of each
topic's documents, outliers included, as BERTopic's topic_embeddings_. These BERTopic objects
are merged with BERTopic.merge_models at min_similarity 0.7 (the default), 0.9 and 0.97. The JSON holds
the inputs (topic ids and float32 topic embeddings, exactly) and, per threshold, each model's
topic -> merged topic mapping, read back from the merged model's topics_.
"""
import json
import sys
import tempfile
from collections import Counter

import numpy as np
from sklearn.cluster import KMeans

import bertopic
from bertopic import BERTopic
from bertopic._bertopic import TopicMapper

BLOCK = 1500
KS = [8, 6, 10]


def make_model(emb, k):
    km = KMeans(n_clusters=k, random_state=0, n_init=10).fit(emb)
    labels = km.labels_
    dist = np.linalg.norm(emb - km.cluster_centers_[labels], axis=1)
    far = dist > np.quantile(dist, 0.9)
    sizes = Counter(labels[~far].tolist())
    order = sorted(sizes, key=lambda c: (-sizes[c], c))
    renum = {c: i for i, c in enumerate(order)}
    topics = [-1 if far[i] else renum[int(labels[i])] for i in range(len(labels))]
    ids = sorted(set(topics))
    topic_emb = np.stack(
        [emb[np.array(topics) == t].astype(np.float64).mean(axis=0) for t in ids]
    ).astype(np.float32)
    m = BERTopic()
    m.topics_ = topics
    m.topic_sizes_ = dict(Counter(topics))
    m.topic_representations_ = {t: [(f"w{t}", 1.0)] for t in ids}
    m.custom_labels_ = None
    m.topic_aspects_ = {}
    m.topic_embeddings_ = topic_emb
    m.topic_mapper_ = TopicMapper(topics)
    return m, ids, topic_emb


def main(data_dir, out_path):
    all_emb = np.load(f"{data_dir}/arxiv-cs-abstracts.minilm.npy")
    models = []
    inputs = []
    for b, k in enumerate(KS):
        emb = all_emb[b * BLOCK : (b + 1) * BLOCK]
        m, ids, te = make_model(emb, k)
        models.append(m)
        inputs.append(
            {
                "rows": [b * BLOCK, (b + 1) * BLOCK],
                "topic_ids": ids,
                # float32 -> Python float is exact, so the Rust side reads the same bits.
                "topic_embeddings": [[float(v) for v in row] for row in te],
            }
        )
    results = []
    for min_sim in [0.7, 0.9, 0.97]:
        merged = BERTopic.merge_models(models, min_similarity=min_sim)
        mappings = []
        start = 0
        for m in models:
            n = len(m.topics_)
            got = merged.topics_[start : start + n]
            mapping = {}
            for t, g in zip(m.topics_, got):
                assert mapping.setdefault(int(t), int(g)) == int(g)
            mappings.append({str(k): v for k, v in sorted(mapping.items())})
            start += n
        results.append(
            {
                "min_similarity": min_sim,
                "mappings": mappings,
                "n_topics": len(
                    [t for t in merged.topic_embeddings_[merged._outliers :]]
                ),
            }
        )
    out = {
        "bertopic_version": bertopic.__version__,
        "source": "make_merge_reference.py; see its docstring",
        "models": inputs,
        "merges": results,
    }
    with open(out_path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
