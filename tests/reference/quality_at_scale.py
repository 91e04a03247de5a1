#!/usr/bin/env python3
"""Issue #22: topic quality at scale, Python BERTopic vs this crate, scored the same way.

Not run by the tests (CI has no Python). Needs the reference venv (see make_analysis_reference.py)
plus gensim 4.4 (`/tmp/bt-venv/bin/pip install gensim==4.4.0`).

Subcommands (DATA = ../shared/data, OUT = a folder under target/):

  fit-py  CORPUS SEED OUT [--knn exact]   BERTopic 0.17.4 with the crate's defaults
          (UMAP 15/5/0.0/cosine seeded, HDBSCAN min_cluster_size 10 EOM,
          CountVectorizer(stop_words="english")) on the corpus's precomputed MiniLM embeddings.
          Writes OUT/topic_info.csv + OUT/document_topics.csv in the shape `bertopic train` writes
          them, and OUT/umap.npy (the 5-D reduction) for the stage swap. --knn exact hands
          umap-learn the exact cosine k-NN (precomputed_knn) instead of pynndescent's.
  hdbscan-py NPY OUT                      Python hdbscan (same parameters) on a 5-D .npy (our UMAP
          output for the stage swap); writes OUT/labels.npy and prints topics / outliers.
  score   CORPUS JSON RUN_DIR...          Scores every run folder (ours from `bertopic train`, or
          fit-py's) the same way: topic words of topic_info.csv's Representation (outlier topic
          excluded), gensim CoherenceModel c_v and c_npmi on BERTopic's preprocessing
          (`_preprocess_text`, then the CountVectorizer(stop_words="english") analyzer: lowercase,
          token pattern, stop words), NMI of document topics (outliers as one more cluster, all
          rows) vs the Label column, outlier share, topic count. One gensim accumulator is built
          over the union of all runs' topics, so every run is scored against identical counts.
          Writes a JSON summary (per run, and mean ± spread per group = run-folder name up to
          its last '-').

CORPUS is arxiv or sotu.
"""
import json
import os
import re
import sys

import numpy as np
import pandas as pd

CORPORA = {
    "arxiv": ("arxiv-cs-abstracts.csv", "arxiv-cs-abstracts.minilm.npy"),
    "sotu": ("sotu-chunks.csv", "sotu-chunks.minilm.npy"),
}


def data_dir():
    return os.environ.get("BERTOPIC_SHARED_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))


def load(corpus):
    csv, npy = CORPORA[corpus]
    df = pd.read_csv(os.path.join(data_dir(), csv), dtype=str, keep_default_na=False)
    docs = (df.Title + " " + df.Abstract).str.strip().tolist()
    emb = np.load(os.path.join(data_dir(), npy))
    return df, docs, emb


def write_run(out, topics, words_by_topic):
    os.makedirs(out, exist_ok=True)
    ids = sorted(set(topics))
    counts = pd.Series(topics).value_counts()
    pd.DataFrame({
        "Topic": ids,
        "Count": [int(counts[t]) for t in ids],
        "Representation": [" ".join(words_by_topic.get(t, [])) for t in ids],
    }).to_csv(os.path.join(out, "topic_info.csv"), index=False)
    pd.DataFrame({"row": np.arange(1, len(topics) + 1), "topic": topics}).to_csv(
        os.path.join(out, "document_topics.csv"), index=False)


def exact_knn(emb, k):
    x = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    n = len(x)
    idx = np.empty((n, k), dtype=np.int32)
    dist = np.empty((n, k), dtype=np.float32)
    for s in range(0, n, 2000):
        d = 1.0 - x[s:s + 2000] @ x.T
        d[np.arange(d.shape[0]), np.arange(s, s + d.shape[0])] = -1.0  # self first, as pynndescent
        part = np.argpartition(d, k, axis=1)[:, :k]
        pd_ = np.take_along_axis(d, part, axis=1)
        order = np.argsort(pd_, axis=1, kind="stable")
        idx[s:s + 2000] = np.take_along_axis(part, order, axis=1)
        dist[s:s + 2000] = np.maximum(np.take_along_axis(pd_, order, axis=1), 0.0)
    return idx, dist


def fit_py(corpus, seed, out, knn=None):
    import hdbscan
    import umap
    from bertopic import BERTopic
    from sklearn.feature_extraction.text import CountVectorizer

    _, docs, emb = load(corpus)
    kw = {}
    if knn == "exact":
        kw["precomputed_knn"] = exact_knn(emb, 15)
    um = umap.UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                   low_memory=False, random_state=seed, **kw)
    model = BERTopic(
        umap_model=um,
        hdbscan_model=hdbscan.HDBSCAN(min_cluster_size=10, metric="euclidean",
                                      cluster_selection_method="eom", prediction_data=True),
        vectorizer_model=CountVectorizer(stop_words="english"),
    )
    topics, _ = model.fit_transform(docs, emb)
    words = {t: [w for w, _ in model.get_topic(t)] for t in set(topics)}
    write_run(out, list(topics), words)
    np.save(os.path.join(out, "umap.npy"), um.embedding_.astype(np.float32))
    print(f"{out}: {len(set(topics)) - (1 if -1 in topics else 0)} topics, "
          f"{np.mean(np.array(topics) == -1):.3f} outliers")


def hdbscan_py(npy, out):
    import hdbscan

    x = np.load(npy).astype(np.float64)
    labels = hdbscan.HDBSCAN(min_cluster_size=10, metric="euclidean",
                             cluster_selection_method="eom").fit(x).labels_
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "labels.npy"), labels)
    print(json.dumps({"input": npy, "topics": int(labels.max() + 1),
                      "outliers": float(np.mean(labels == -1))}))


def score(corpus, out_json, runs):
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.metrics import normalized_mutual_info_score

    df, docs, _ = load(corpus)
    # BERTopic's _preprocess_text for English, then the pipeline's analyzer.
    cleaned = [re.sub(r"[^A-Za-z0-9 ]+", "", d.replace("\n", " ").replace("\t", " ")) or "emptydoc"
               for d in docs]
    analyzer = CountVectorizer(stop_words="english").build_analyzer()
    texts = [analyzer(d) for d in cleaned]
    dictionary = Dictionary(texts)

    per_run, all_topics, spans = {}, [], []
    for run in runs:
        info = pd.read_csv(os.path.join(run, "topic_info.csv"), keep_default_na=False)
        dt = pd.read_csv(os.path.join(run, "document_topics.csv"))
        assert len(dt) == len(df) and (dt.row.values == np.arange(1, len(df) + 1)).all(), run
        topics = dt.topic.values
        tw = []
        for t, rep in zip(info.Topic, info.Representation):
            if t == -1:
                continue
            ws = [w for w in str(rep).split() if w in dictionary.token2id]
            if len(ws) >= 2:
                tw.append(ws)
        spans.append((run, len(all_topics), len(all_topics) + len(tw)))
        all_topics.extend(tw)
        per_run[run] = {
            "topics": int(len(set(topics)) - (1 if -1 in topics else 0)),
            "outliers": float(np.mean(topics == -1)),
            "nmi": float(normalized_mutual_info_score(df.Label.values, topics)),
        }
    for measure, key in (("c_v", "c_v"), ("c_npmi", "npmi")):
        cm = CoherenceModel(topics=all_topics, texts=texts, dictionary=dictionary,
                            coherence=measure, topn=10, processes=1)
        vals = np.array(cm.get_coherence_per_topic())
        for run, a, b in spans:
            per_run[run][key] = float(np.nanmean(vals[a:b]))
    groups = {}
    for run, r in per_run.items():
        groups.setdefault(os.path.basename(os.path.normpath(run)).rsplit("-", 1)[0], []).append(r)
    summary = {}
    for g, rs in groups.items():
        summary[g] = {"runs": len(rs)}
        for k in ("topics", "c_v", "npmi", "nmi", "outliers"):
            v = np.array([r[k] for r in rs], dtype=float)
            summary[g][k] = {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                             "min": float(v.min()), "max": float(v.max())}
    res = {"corpus": corpus, "scoring": "gensim 4.4 CoherenceModel (c_v, c_npmi, topn 10) on "
           "BERTopic _preprocess_text + CountVectorizer(stop_words='english') analyzer; NMI vs Label, "
           "all rows, outliers one cluster", "runs": per_run, "groups": summary}
    with open(out_json, "w") as f:
        json.dump(res, f, indent=1)
    for g, s in summary.items():
        print(g, " ".join(f"{k} {s[k]['mean']:.4f}±{s[k]['sd']:.4f}"
                          for k in ("topics", "c_v", "npmi", "nmi", "outliers")))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "fit-py":
        fit_py(args[0], int(args[1]), args[2], args[4] if len(args) > 4 and args[3] == "--knn" else None)
    elif cmd == "hdbscan-py":
        hdbscan_py(args[0], args[1])
    elif cmd == "score":
        score(args[0], args[1], args[2:])
    else:
        sys.exit(__doc__)
