"""The seed's tuning done the seed's way in Python, for a side-by-side check of `bertopic train
--trials`: one BERTopic fit + one gensim c_v per min_cluster_size trial on precomputed embeddings.

Usage: python tune_baseline.py CORPUS.csv EMBEDDINGS.npy TRIALS OUT.json

Coherence texts use the same tokenisation as the Rust pipeline (lowercase, token pattern
\\b\\w\\w+\\b, scikit-learn English stop words) so the two c_v values are comparable.
"""
import json
import re
import sys
import time

import numpy as np
import pandas as pd
from bertopic import BERTopic
from gensim.corpora import Dictionary
from gensim.models.coherencemodel import CoherenceModel
from hdbscan import HDBSCAN
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from umap import UMAP


def seed_range(n):
    if n < 200: return list(range(4, 10))
    if n < 500: return list(range(5, 15))
    if n < 1000: return list(range(10, 25))
    if n < 1500: return list(range(13, 30))
    if n < 2500: return list(range(16, 35))
    return list(range(20, 50))


def main():
    csv_path, npy_path, trials, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    df = pd.read_csv(csv_path)
    docs = (df["Title"].astype(str) + " " + df["Abstract"].astype(str)).str.strip().tolist()
    emb = np.load(npy_path)
    rng = seed_range(len(docs))
    idx = np.linspace(0, len(rng) - 1, trials, dtype=int)
    sizes = [rng[i] for i in idx]
    pat = re.compile(r"(?u)\b\w\w+\b")
    texts = [[t for t in pat.findall(d.lower()) if t not in ENGLISH_STOP_WORDS] for d in docs]
    dictionary = Dictionary(texts)
    results = []
    t_all = time.time()
    for m in sizes:
        t0 = time.time()
        model = BERTopic(
            umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42),
            hdbscan_model=HDBSCAN(min_cluster_size=m, metric="euclidean", cluster_selection_method="eom", prediction_data=True),
            vectorizer_model=CountVectorizer(stop_words="english"),
        )
        model.fit(docs, emb)
        fit_s = time.time() - t0
        freq = model.get_topic_freq()
        ids = freq[(freq["Count"] >= 3) & (freq["Topic"] != -1)]["Topic"].tolist()
        topics = [[w for w, _ in model.get_topic(i)] for i in ids]
        t1 = time.time()
        cv = None
        if len(topics) >= 2:
            cv = CoherenceModel(topics=topics, texts=texts, dictionary=dictionary, coherence="c_v", processes=1, topn=10).get_coherence()
        results.append({"min_cluster_size": m, "c_v": cv, "n_topics": len(ids), "fit_s": fit_s, "coherence_s": time.time() - t1,
                        "outlier_fraction": float((np.array(model.topics_) == -1).mean())})
        print(results[-1], flush=True)
    json.dump({"corpus": csv_path, "trials": results, "total_s": time.time() - t_all}, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
