#!/usr/bin/env python3
"""Reference zero-shot and supervised topics of BERTopic 0.17.4, for
crates/bertopic/tests/variants.rs (zeroshot_matches_bertopic, supervised_matches_bertopic).

Regenerate (not needed for the tests: the JSON is committed; CI has no Python):

    # the venv of make_analysis_reference.py (bertopic 0.17.4, hdbscan 0.8.44, scikit-learn 1.9.1)
    printf '%s\n' "computer vision: images, video and visual recognition" \
        "natural language processing and language models" \
        "artificial intelligence: agents, reasoning and planning" > /tmp/names.txt
    ./target/debug/bertopic embed --input /tmp/names.txt --input-format txt --no-clean \
        --no-cache --output /tmp/names.npy
    /tmp/bt-venv/bin/python tests/reference/make_variants_reference.py \
        ../shared/data /tmp/names.txt /tmp/names.npy tests/reference/variants-bertopic.json

Corpus: the 200 rows of arxiv-cs-abstracts-200.csv, document = Title + " " + Abstract, with
their rows of arxiv-cs-abstracts.minilm.npy (matched by Title and Abstract in the full file).

Zero-shot needs an embedding model for the topic names. sentence-transformers is not installed
here, so the names are embedded by OUR all-MiniLM-L6-v2 (`bertopic embed`, which has
sentence-transformers parity: shared/reference/embeddings-minilm.json) and handed to BERTopic
through a BaseEmbedder that looks the strings up. The JSON keeps those vectors so the Rust test
can check its embedder still produces them.

To take UMAP's randomness out, both fits use an exact, deterministic pipeline on both sides:
sklearn PCA(n_components=5) instead of UMAP (BERTopic calls its fit_transform and, for the
documents no name claimed, its transform: for PCA both are the same projection) and
hdbscan.HDBSCAN(min_cluster_size=5, eom) -- the Rust side uses its own exact PCA and HDBSCAN.
Words come from CountVectorizer(stop_words="english") = the Rust defaults.

Zero-shot at zeroshot_min_similarity 0.26 (all three names used; no similarity lies within
0.002 of it, so float32 vs float64 cosines cannot flip an assignment), 0.35 (only names 1 and 2
reach it, so topic ids 0/1 are names 1/2) and 0.7 (BERTopic's default: nothing is assigned and
the fit is a plain fit). Recorded per threshold: per-document topics and probabilities, each
document's best name and similarity, topic -> name of the zero-shot topics, and the c-TF-IDF
words of every topic.

Supervised (BERTopic docs, "Supervised Topic Modeling"): umap_model=BaseDimensionalityReduction(),
hdbscan_model=BaseCluster() (the labels are the topics; the docs' LogisticRegression gives the
same topics, checked below), ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=False),
y = class ids of the Label column by first appearance.

Words: BERTopic breaks ties in an arbitrary order (argpartition), so besides get_topic the JSON
keeps, per topic, the 15 best (word, c-TF-IDF) of its c_tf_idf_ row sorted by (-score, word); a
test can accept reordering of tied words. Floats keep 10 significant digits (float32 embedding
values are exact).
"""
import json
from importlib.metadata import version
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import cosine_similarity

import bertopic
import hdbscan
from bertopic import BERTopic
from bertopic.backend import BaseEmbedder
from bertopic.cluster import BaseCluster
from bertopic.dimensionality import BaseDimensionalityReduction
from bertopic.vectorizers import ClassTfidfTransformer

MIN_CLUSTER_SIZE = 5
THRESHOLDS = [0.26, 0.35, 0.7]
KEEP_WORDS = 15


def r(x):
    return float(f"{float(x):.10g}")


class Lookup(BaseEmbedder):
    """Embeds only the strings it was given (the zero-shot names), with our MiniLM vectors."""

    def __init__(self, table):
        super().__init__()
        self.table = table

    def embed(self, documents, verbose=False):
        return np.vstack([self.table[d] for d in documents])


def words_of(model):
    """Per topic: get_topic, and the KEEP_WORDS best of its c-TF-IDF row with ties by word."""
    vocab = model.vectorizer_model.get_feature_names_out()
    ids = sorted(model.get_topics().keys())
    ctfidf = model.c_tf_idf_.toarray()
    out = {}
    for row, t in enumerate(ids):
        scores = ctfidf[row]
        best = sorted(range(len(vocab)), key=lambda j: (-scores[j], vocab[j]))[:KEEP_WORDS]
        out[str(t)] = {
            "get_topic": [[w, r(s)] for w, s in model.get_topic(t)],
            "ranked": [[str(vocab[j]), r(scores[j])] for j in best],
        }
    return out


def main(data_dir, names_txt, names_npy, out_path):
    full = pd.read_csv(f"{data_dir}/arxiv-cs-abstracts.csv", dtype=str, keep_default_na=False)
    sample = pd.read_csv(f"{data_dir}/arxiv-cs-abstracts-200.csv", dtype=str,
                         keep_default_na=False)
    index = {k: i for i, k in enumerate(zip(full.Title, full.Abstract))}
    rows = [index[k] for k in zip(sample.Title, sample.Abstract)]
    emb = np.load(f"{data_dir}/arxiv-cs-abstracts.minilm.npy")[rows]
    docs = (sample.Title + " " + sample.Abstract).tolist()
    labels = sample.Label.tolist()
    names = [l.rstrip("\n") for l in open(names_txt, encoding="utf-8") if l.strip()]
    name_emb = np.load(names_npy)
    assert name_emb.shape == (len(names), emb.shape[1]), name_emb.shape

    sims = cosine_similarity(emb, name_emb)
    zeroshot = []
    for th in THRESHOLDS:
        model = BERTopic(
            embedding_model=Lookup(dict(zip(names, name_emb))),
            umap_model=PCA(n_components=5),
            hdbscan_model=hdbscan.HDBSCAN(min_cluster_size=MIN_CLUSTER_SIZE, metric="euclidean",
                                          cluster_selection_method="eom", prediction_data=True),
            vectorizer_model=CountVectorizer(stop_words="english"),
            zeroshot_topic_list=names,
            zeroshot_min_similarity=th,
        )
        # BERTopic sets language = None whenever an embedding_model is passed (_bertopic.py,
        # __init__), which skips the English-only removal of non-alphanumeric characters
        # before c-TF-IDF (_preprocess_text). BERTopic() without one keeps "english" and
        # strips them, as the Rust side does; restore that so the words are comparable.
        model.language = "english"
        topics, probs = model.fit_transform(docs, emb)
        info = model.get_topic_info()
        zeroshot.append({
            "min_similarity": th,
            "n_assigned": int((sims.max(1) >= th).sum()),
            "topics": [int(t) for t in topics],
            "probabilities": [r(p) for p in probs],
            # topic id -> index into the names (BERTopic's _topic_id_to_zeroshot_topic_idx)
            "zeroshot_topics": {str(k): int(v)
                                for k, v in model._topic_id_to_zeroshot_topic_idx.items()},
            "topic_names": {str(int(t)): n for t, n in zip(info.Topic, info.Name)},
            "words": words_of(model),
        })

    y = []
    first = {}
    for l in labels:
        y.append(first.setdefault(l, len(first)))
    supervised = {}
    for name, clusterer in [("base_cluster", BaseCluster()),
                            ("logistic_regression", LogisticRegression())]:
        model = BERTopic(
            umap_model=BaseDimensionalityReduction(),
            hdbscan_model=clusterer,
            ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=False),
            vectorizer_model=CountVectorizer(stop_words="english"),
        )
        topics, _ = model.fit_transform(docs, emb, y=y)
        supervised[name] = {
            "topics": [int(t) for t in topics],
            "words": words_of(model),
            "topic_embeddings": [[r(v) for v in row] for row in model.topic_embeddings_],
        }
    # The docs' classifier and BaseCluster give the same topics and words: keep one.
    lr = supervised.pop("logistic_regression")
    assert lr["topics"] == supervised["base_cluster"]["topics"]
    assert lr["words"] == supervised["base_cluster"]["words"]
    supervised = supervised["base_cluster"]
    supervised["labels"] = y
    supervised["label_names"] = list(first.keys())

    out = {
        "producer": "tests/reference/make_variants_reference.py",
        "versions": {"python": sys.version.split()[0], "bertopic": bertopic.__version__,
                     "numpy": np.__version__, "pandas": pd.__version__,
                     "scikit-learn": sklearn.__version__, "hdbscan": version("hdbscan")},
        "corpus": {"file": "arxiv-cs-abstracts-200.csv", "n_docs": len(docs),
                   "document": "Title + ' ' + Abstract", "first_doc_prefix": docs[0][:80]},
        "pipeline": {"reduction": "PCA(n_components=5)", "min_cluster_size": MIN_CLUSTER_SIZE,
                     "vectorizer": "CountVectorizer(stop_words='english')", "top_n_words": 10},
        "names": names,
        "name_embeddings": [[float(v) for v in row] for row in name_emb],
        "best_name": [int(k) for k in sims.argmax(1)],
        "best_similarity": [r(s) for s in sims.max(1)],
        "zeroshot": zeroshot,
        "supervised": supervised,
    }
    with open(out_path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:5])
