"""Makes tests/data/sotu-bertopic-gensim.json: the 139 topics of Python BERTopic 0.17.4 on
sotu-chunks (precomputed MiniLM embeddings, seeded UMAP, CountVectorizer(stop_words="english")),
and gensim 4.4's CoherenceModel scores of them on the passages tokenised by that vectorizer.

Usage: python scripts/make_sotu_fixture.py SHARED_DIR OUT.json
"""
import json
import sys
import time

import gensim
import numpy as np
import pandas as pd
import bertopic
from bertopic import BERTopic
from gensim.corpora import Dictionary
from gensim.models.coherencemodel import CoherenceModel
from hdbscan import HDBSCAN
from sklearn.feature_extraction.text import CountVectorizer
from umap import UMAP

shared, out = sys.argv[1], sys.argv[2]
df = pd.read_csv(f"{shared}/data/sotu-chunks.csv")
docs = (df.Title + " " + df.Abstract).tolist()
emb = np.load(f"{shared}/data/sotu-chunks.minilm.npy")
model = BERTopic(
    umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42),
    hdbscan_model=HDBSCAN(min_cluster_size=10, metric="euclidean", cluster_selection_method="eom",
                          prediction_data=True),
    vectorizer_model=CountVectorizer(stop_words="english"),
)
labels, _ = model.fit_transform(docs, emb)
topics = [[w for w, _ in model.get_topic(t)] for t in sorted(set(labels)) if t != -1]
analyzer = model.vectorizer_model.build_analyzer()
texts = [analyzer(d) for d in docs]
dictionary = Dictionary(texts)
results = {}
for m in ["c_v", "c_npmi", "c_uci", "u_mass"]:
    t0 = time.perf_counter()
    cm = CoherenceModel(topics=topics, texts=texts, dictionary=dictionary, coherence=m, topn=10,
                        processes=1)
    per_topic = cm.get_coherence_per_topic()
    seconds = time.perf_counter() - t0
    results[m] = {
        "mean": float(np.mean(per_topic)),
        "per_topic": [float(x) for x in per_topic],
        "n_virtual_documents": int(cm._accumulator.num_docs),
        "gensim_seconds": round(seconds, 2),
    }
known = dictionary.token2id
json.dump({
    "what": "gensim CoherenceModel scores of Python BERTopic's 139 topics on sotu-chunks",
    "producer": "crates/bertopic-coherence/scripts/make_sotu_fixture.py",
    "versions": {"bertopic": bertopic.__version__, "gensim": gensim.__version__},
    "texts": "Title + ' ' + Abstract of every row of data/sotu-chunks.csv, tokenised by "
             "CountVectorizer(stop_words='english').build_analyzer()",
    "n_texts": len(texts),
    "n_tokens": sum(len(t) for t in texts),
    "n_terms": len(dictionary),
    "topics": topics,
    "dropped_words": sum(1 for t in topics for w in t[:10] if w not in known),
    "results": results,
    "tolerance": {"mean_abs": 1e-6, "per_topic_abs": 1e-6},
}, open(out, "w"), indent=1)
print({m: (r["mean"], r["gensim_seconds"]) for m, r in results.items()})
