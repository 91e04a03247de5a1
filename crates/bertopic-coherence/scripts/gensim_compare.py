"""Side-by-side check against gensim on the bench's sotu-chunks case.

Usage: BERTOPIC_COHERENCE_DUMP=/tmp cargo bench -p bertopic-coherence --bench coherence
       python scripts/gensim_compare.py /tmp/sotu-ctfidf.json [measure ...]
(or a file written by `examples/score_file.rs`).
Runs gensim 4.4's CoherenceModel (processes=1) on the dumped texts and topics, prints its time and
the largest per-topic difference from the Rust scores stored in the dump.
"""
import json
import sys
import time

from gensim.corpora import Dictionary
from gensim.models.coherencemodel import CoherenceModel

dump = json.load(open(sys.argv[1]))
measures = sys.argv[2:] or ["c_v", "c_npmi", "c_uci", "u_mass"]
texts, topics = dump["texts"], dump["topics"]
t0 = time.perf_counter()
dictionary = Dictionary(texts)
print(f"Dictionary(texts): {time.perf_counter() - t0:.2f} s, {len(dictionary)} terms")
for m in measures:
    t0 = time.perf_counter()
    cm = CoherenceModel(topics=topics, texts=texts, dictionary=dictionary, coherence=m, topn=10, processes=1)
    per_topic = cm.get_coherence_per_topic()
    elapsed = time.perf_counter() - t0
    rust = dump["rust"][m]["per_topic"]
    diff = max(abs(a - b) for a, b in zip(per_topic, rust))
    mean = sum(per_topic) / len(per_topic)
    print(f"{m}: gensim {elapsed:.2f} s, mean {mean:.10f} (rust {dump['rust'][m]['mean']:.10f}), "
          f"max per-topic |diff| {diff:.2e}")
