#!/usr/bin/env python3
"""Reference values of BERTopic 0.17.4's analysis methods, for tests/analysis.rs.

Regenerate (not needed for the tests: the JSON is committed; CI has no Python):

    python3 -m venv /tmp/bt-venv
    /tmp/bt-venv/bin/pip install bertopic==0.17.4 --no-deps
    /tmp/bt-venv/bin/pip install numpy==2.4.6 pandas==3.1.1 scikit-learn==1.9.1 scipy==1.17.1 \
        umap-learn==0.5.12 hdbscan==0.8.44 plotly tqdm pyyaml
    /tmp/bt-venv/bin/python tests/reference/make_analysis_reference.py \
        ../shared/data tests/reference/analysis-bertopic.json

Corpus: every 20th data row of shared/data/sotu-chunks.csv (rows 0, 20, 40, ...: 530 passages,
1790-2021), document = Title + " " + Abstract, with their rows of sotu-chunks.minilm.npy.

To take UMAP/HDBSCAN randomness out of the comparison, BERTopic is fitted once (seeded UMAP,
HDBSCAN min_cluster_size=10, CountVectorizer(stop_words="english") = the Rust defaults) and
its document->topic assignment is stored; the Rust test gives the same assignment to its model
(TopicModel::update_topics), so both sides analyse the same topics of the same documents.

Words: BERTopic's tables only keep five words joined by ", " and break ties in an arbitrary
order (numpy argpartition), so _extract_words_per_topic is wrapped to record the first six words
of every row with their weights; the test compares weights and accepts reordering of tied words.
Floats are rounded to 10 significant digits.
"""
import json
import sys

import numpy as np
import pandas as pd
import scipy
import scipy.cluster.hierarchy as sch
import sklearn
from scipy.spatial.distance import squareform
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics.pairwise import cosine_similarity

import bertopic
import hdbscan
import umap
from bertopic import BERTopic
from bertopic.backend import BaseEmbedder

STEP = 20
# Words kept per row: the five of BERTopic's tables plus one to see ties at the cut.
KEEP_WORDS = 6


def r(x):
    return float(f"{float(x):.10g}")


def main(data_dir, out_path):
    df = pd.read_csv(f"{data_dir}/sotu-chunks.csv", dtype=str, keep_default_na=False)
    emb_all = np.load(f"{data_dir}/sotu-chunks.minilm.npy")
    rows = list(range(0, len(df), STEP))
    sub = df.iloc[rows]
    docs = (sub.Title + " " + sub.Abstract).tolist()
    assert len(set(docs)) == len(docs), "documents must be distinct"
    emb = emb_all[rows]
    years = sub.Date.tolist()
    parties = sub.Label.tolist()

    model = BERTopic(
        umap_model=umap.UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                             low_memory=False, random_state=42),
        hdbscan_model=hdbscan.HDBSCAN(min_cluster_size=10, metric="euclidean",
                                      cluster_selection_method="eom", prediction_data=True),
        vectorizer_model=CountVectorizer(stop_words="english"),
    )
    topics, _ = model.fit_transform(docs, emb)

    captured = []
    original = model._extract_words_per_topic

    def capture(*args, **kwargs):
        out = original(*args, **kwargs)
        captured.append(out)
        return out

    model._extract_words_per_topic = capture

    def words_of_calls():
        rows_ = []
        for call in captured:
            for topic, values in call.items():
                rows_.append((int(topic), [[w, r(s)] for w, s in values[:KEEP_WORDS]]))
        captured.clear()
        return rows_

    def table(df_, key, words):
        assert len(df_) == len(words), (len(df_), len(words))
        out = []
        for (_, row), (topic, w) in zip(df_.iterrows(), words):
            assert int(row.Topic) == topic
            item = {"topic": topic, "frequency": int(row.Frequency), "words": w,
                    "words_column": row.Words}
            if key == "Timestamp":
                item["timestamp"] = str(row.Timestamp)
                item["timestamp_s"] = r((row.Timestamp - pd.Timestamp(0)).total_seconds())
            else:
                item["class"] = row.Class
            out.append(item)
        return out

    # BERTopic 0.17.4 passes infer_datetime_format= to pd.to_datetime, which pandas 3 removed:
    # string timestamps fail there, so pass datetimes (the path taken for non-strings).
    stamps = list(pd.to_datetime(pd.Series(years), format="%Y"))
    over_time = {}
    for name, kw in [
        ("default", {}),
        ("bins10", {"nr_bins": 10}),
        ("bins10_no_global", {"nr_bins": 10, "global_tuning": False}),
    ]:
        t = model.topics_over_time(docs, stamps, **kw)
        over_time[name] = {"params": kw, "rows": table(t, "Timestamp", words_of_calls())}
    # Evolution tuning writes into a temporary copy in 0.17.4: it changes nothing.
    a = model.topics_over_time(docs, stamps, nr_bins=10, evolution_tuning=True)
    b = model.topics_over_time(docs, stamps, nr_bins=10, evolution_tuning=False)
    captured.clear()
    evolution_noop = bool(a.equals(b))

    per_class = {}
    for name, g in [("global", True), ("no_global", False)]:
        t = model.topics_per_class(docs, parties, global_tuning=g)
        per_class[name] = {"global_tuning": g, "rows": table(t, "Class", words_of_calls())}

    hier = model.hierarchical_topics(docs)
    node_words = words_of_calls()
    n_topics = len(set(topics)) - (1 if -1 in topics else 0)
    ctfidf = model.c_tf_idf_[1:] if -1 in topics else model.c_tf_idf_
    dist = 1 - cosine_similarity(ctfidf)
    np.fill_diagonal(dist, 0)
    z_plain = sch.linkage(squareform(dist, checks=False), "ward")
    hier_rows = []
    for (_, row) in hier.sort_values("Distance").iterrows():
        hier_rows.append({
            "parent_id": int(row.Parent_ID), "parent_name": row.Parent_Name,
            "topics": [int(t) for t in row.Topics],
            "left": int(row.Child_Left_ID), "right": int(row.Child_Right_ID),
            "distance": r(row.Distance),
        })
    tree = model.get_topic_tree(hier)

    sample = docs[:40]
    distr, token_distr = model.approximate_distribution(sample, calculate_tokens=True)
    tokenizer = model.vectorizer_model.build_tokenizer()
    padded, _ = model.approximate_distribution(sample[:20], window=8, stride=3, padding=True,
                                               min_similarity=0.05)

    topic_list = sorted(set(topics))
    te = model.topic_embeddings_
    non_outlier = [i for i, t in enumerate(topic_list) if t >= 0]
    sim = cosine_similarity(te[non_outlier])

    class Lookup(BaseEmbedder):
        def __init__(self, table_):
            super().__init__()
            self.table = table_

        def embed(self, documents, verbose=False):
            return np.vstack([self.table[d] for d in documents])

    query_rows = [5, 3005, 9005]
    query_texts = [df.Title[i] + " " + df.Abstract[i] for i in query_rows]
    model.embedding_model = Lookup({t: emb_all[i] for t, i in zip(query_texts, query_rows)})
    search = []
    for i, q in zip(query_rows, query_texts):
        found, sims = model.find_topics(q, top_n=5)
        search.append({"row": i, "topics": [int(t) for t in found],
                       "similarities": [r(s) for s in sims]})

    out = {
        "producer": "tests/reference/make_analysis_reference.py",
        "versions": {"python": sys.version.split()[0], "bertopic": bertopic.__version__,
                     "numpy": np.__version__, "pandas": pd.__version__,
                     "scikit-learn": sklearn.__version__, "scipy": scipy.__version__,
                     "umap-learn": umap.__version__},
        "corpus": {"file": "sotu-chunks.csv", "rows": f"every {STEP}th data row from 0",
                   "step": STEP, "n_docs": len(docs), "document": "Title + ' ' + Abstract"},
        "tolerance": {
            "weights_relative": 1e-8,
            "why": "same formulas in float64; the JSON keeps 10 significant digits",
            "similarity_embeddings_abs": 1e-5,
            "why_embeddings": "topic embeddings are float32 means (numpy pairwise sums vs sequential)",
        },
        "topics": [int(t) for t in topics],
        "topic_words": {str(t): [[w, r(s)] for w, s in model.get_topic(t)] for t in topic_list},
        "over_time": over_time,
        "evolution_tuning_changes_nothing": evolution_noop,
        "per_class": per_class,
        "hierarchy": {"n_topics": n_topics, "rows": hier_rows,
                      "node_words": [w for _, w in node_words],
                      "linkage_plain": [[int(a), int(b), r(d), int(c)] for a, b, d, c in z_plain],
                      "tree": tree},
        "distribution": {
            "n_docs": len(sample), "params": {"window": 4, "stride": 1, "min_similarity": 0.1},
            "documents": [[r(v) for v in row] for row in distr],
            "tokens": [{"tokens": tokenizer(sample[i]),
                        "values": [[r(v) for v in row] for row in token_distr[i]]}
                       for i in range(1)],
            "padded": {"n_docs": 20, "params": {"window": 8, "stride": 3, "padding": True,
                                                "min_similarity": 0.05},
                       "documents": [[r(v) for v in row] for row in padded]},
        },
        "similarity": {"topics": [topic_list[i] for i in non_outlier],
                       "matrix": [[r(v) for v in row] for row in sim]},
        "search": search,
    }
    with open(out_path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
