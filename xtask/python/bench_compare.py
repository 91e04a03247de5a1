"""Python side of `cargo xtask bench-report --compare-python`: the same work as
examples/bench_compare.rs, on the same inputs, printing `bench: key=value ...` lines.

  embed CSV N MODEL_DIR       sentence-transformers all-MiniLM-L6-v2, loaded from MODEL_DIR (the
                              folder the Rust side loaded), on the first N rows
                              (Title + " " + Abstract); `status=n/a` when it (torch) is missing
  fit CSV NPY TOPICS_JSON     BERTopic 0.17.4 with the Rust defaults (UMAP 15/5/0.0 cosine,
                              random_state 42; HDBSCAN 10 EOM; CountVectorizer english) on the
                              given embeddings, twice in this process (cold = first, with numba's
                              compilation; warm = second, timed per stage); then gensim c_v of the
                              Rust run's topic words (TOPICS_JSON) on the same documents.

Peak RSS is this process's resource.getrusage(RUSAGE_SELF).ru_maxrss (KiB on Linux).
xtask makes the virtual environment (target/bench-venv) and runs this with its python.
"""
import json
import re
import resource
import sys
import time


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def docs_of(csv):
    import pandas as pd

    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    return (df.Title + " " + df.Abstract).str.strip().tolist()


def embed(csv, n, model_dir):
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        print(f"bench: stage=embed status=n/a reason={type(e).__name__}", flush=True)
        return
    texts = docs_of(csv)[:n]
    model = SentenceTransformer(model_dir, device="cpu")
    t = time.perf_counter()
    e = model.encode(texts, batch_size=32)
    secs = time.perf_counter() - t
    print(f"bench: stage=embed n={len(e)} dim={e.shape[1]} secs={secs:.4f} peak_rss={peak_rss()}", flush=True)


def fit(csv, npy, topics_json):
    import numpy as np
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
    from umap import UMAP

    docs = docs_of(csv)
    emb = np.load(npy)

    def fit_once():
        stages = {"umap": 0.0, "hdbscan": 0.0, "ctfidf": 0.0}
        model = BERTopic(
            umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42),
            hdbscan_model=HDBSCAN(min_cluster_size=10, metric="euclidean", cluster_selection_method="eom",
                                  prediction_data=True),
            vectorizer_model=CountVectorizer(stop_words="english"),
        )

        # BERTopic's own stage methods, timed on this instance (the fit calls them through self).
        def timed(name, f):
            def g(*a, **k):
                t = time.perf_counter()
                r = f(*a, **k)
                stages[name] += time.perf_counter() - t
                return r
            return g

        model._reduce_dimensionality = timed("umap", model._reduce_dimensionality)
        model._cluster_embeddings = timed("hdbscan", model._cluster_embeddings)
        model._extract_topics = timed("ctfidf", model._extract_topics)
        t = time.perf_counter()
        model.fit(docs, emb)
        return time.perf_counter() - t, stages, model

    cold_s, _, _ = fit_once()
    fit_s, st, model = fit_once()

    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    topics = json.load(open(topics_json))
    t = time.perf_counter()
    # The Rust pipeline's tokenisation: lowercase, sklearn's token pattern, its English stop words.
    pat = re.compile(r"(?u)\b\w\w+\b")
    texts = [[w for w in pat.findall(d.lower()) if w not in ENGLISH_STOP_WORDS] for d in docs]
    dictionary = Dictionary(texts)
    # gensim refuses words outside its dictionary; count them rather than fail.
    missing = sum(w not in dictionary.token2id for tp in topics for w in tp)
    topics = [[w for w in tp if w in dictionary.token2id] for tp in topics]
    cv = CoherenceModel(topics=topics, texts=texts, dictionary=dictionary, coherence="c_v", processes=1,
                        topn=10).get_coherence()
    coherence_s = time.perf_counter() - t
    n_topics = len(set(model.topics_)) - (1 if -1 in model.topics_ else 0)
    print(
        f"bench: stage=fit n={len(docs)} cold_s={cold_s:.4f} fit_s={fit_s:.4f} umap_s={st['umap']:.4f} "
        f"hdbscan_s={st['hdbscan']:.4f} ctfidf_s={st['ctfidf']:.4f} fit_topics={n_topics} "
        f"topics={len(topics)} missing_words={missing} coherence_s={coherence_s:.4f} c_v={cv:.4f} "
        f"peak_rss={peak_rss()}",
        flush=True,
    )


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "embed" and len(sys.argv) == 5:
        embed(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif mode == "fit" and len(sys.argv) == 5:
        fit(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
