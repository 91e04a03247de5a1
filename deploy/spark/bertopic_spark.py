#!/usr/bin/env python3
"""BERTopic on Apache Spark, driving the `bertopic` binary partition by partition.

    embed every partition     bertopic embed   --input - --output -   (JSON Lines, per partition)
    fit on a seeded sample    bertopic train   --embeddings sample.npy (on the driver)
    predict every partition   bertopic predict --input - --output -   (the model shipped with addFile)
    count every partition     bertopic counts  --input - --output -   (class-term counts, sparse JSON)
    merge the counts          bertopic topic-words --counts ...       (exact: c-TF-IDF of the sums)

Writes OUTPUT/topic_info.parquet, OUTPUT/document_topics.parquet (id, topic, probability),
OUTPUT/topic_info.csv, OUTPUT/model/ (the fitted model), OUTPUT/sample.jsonl (the fit sample)
and OUTPUT/summary.json; logs to MLflow when --mlflow-uri or MLFLOW_TRACKING_URI is set.

The input is JSON Lines: one object per document with `text` (or the --text-columns fields) and
optionally `id` (default: the 1-based line number). The sample is the --sample-size documents
with the smallest sha256("<seed>:<id as JSON>"): the same documents whatever the partitioning.

The `bertopic` binary (--bertopic) and the embedding model (its models folder) must exist on
every worker; the fitted model travels with SparkContext.addArchive.

    python bertopic_spark.py --input corpus.jsonl --output out --master 'local-cluster[2,1,1024]'
"""

import argparse
import collections
import csv
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", required=True, help="JSON Lines corpus (any path Spark reads)")
    p.add_argument("--output", required=True, help="output folder (local to the driver)")
    p.add_argument("--bertopic", default=shutil.which("bertopic") or "bertopic", help="the bertopic binary on every node")
    p.add_argument("--master", default=None, help="Spark master (default: spark-submit's)")
    p.add_argument("--partitions", type=int, default=None, help="repartition the corpus into N partitions")
    p.add_argument("--sample-size", type=int, default=10000, help="documents the model is fitted on")
    p.add_argument("--seed", type=int, default=42, help="seed of the sample and of the fit")
    p.add_argument("--embedding-model", default=None, help="embedding model id or folder (bertopic's default)")
    p.add_argument("--text-columns", default="Title,Abstract", help="text fields when a record has no `text`")
    p.add_argument("--batch-size", type=int, default=256, help="documents per batch inside a partition")
    p.add_argument("--train-arg", action="append", default=[], help="extra `bertopic train` argument (repeatable)")
    p.add_argument("--mlflow-uri", default=os.environ.get("MLFLOW_TRACKING_URI"), help="log the run to MLflow")
    p.add_argument("--experiment", default="bertopic-spark", help="MLflow experiment name")
    return p.parse_args(argv)


def pipe(cmd, records, to_input, merge):
    """Streams `records` through `cmd` (JSON Lines in and out, one output line per input line,
    in order) and yields merge(record, output). Memory: what is in flight in the pipes."""
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
    pending = collections.deque()
    failed = []

    def feed():
        try:
            for r in records:
                pending.append(r)  # before writing: its output cannot come back earlier
                proc.stdin.write((json.dumps(to_input(r)) + "\n").encode())
        except BrokenPipeError:
            pass  # the command stopped; its exit status and stderr say why
        except Exception as e:  # noqa: BLE001 - reported after the command ends
            failed.append(e)
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    for line in proc.stdout:
        out = json.loads(line)
        r = pending.popleft()
        if out.get("id") != r["id"]:
            raise RuntimeError(f"{cmd[1]}: output id {out.get('id')!r} for input id {r['id']!r}")
        yield merge(r, out)
    writer.join()
    _check(cmd, proc.wait(), err, failed)
    if pending:
        raise RuntimeError(f"{cmd[1]}: {len(pending)} records got no output line")


def run_all(cmd, lines):
    """Feeds `lines` to `cmd` and returns its whole standard output (one small document)."""
    err = tempfile.TemporaryFile()
    with tempfile.TemporaryFile() as inp:
        for line in lines:
            inp.write((line + "\n").encode())
        inp.seek(0)
        proc = subprocess.run(cmd, stdin=inp, stdout=subprocess.PIPE, stderr=err)
    _check(cmd, proc.returncode, err, [])
    return proc.stdout.decode()


def _check(cmd, rc, err, failed):
    if rc != 0 or failed:
        err.seek(0)
        tail = err.read().decode(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(cmd[:2])} exited with {rc}: {tail}{failed}")


def sample_key(seed, rid):
    return hashlib.sha256(f"{seed}:{json.dumps(rid)}".encode()).hexdigest()


def write_npy(path, rows):
    """A little-endian float32 .npy (n × d) without numpy."""
    n, d = len(rows), len(rows[0]) if rows else 0
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (n, d)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        for r in rows:
            f.write(struct.pack("<%df" % d, *r))


def main(argv=None):
    a = parse_args(argv)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    import pyspark

    # A pip-installed pyspark is a whole Spark: local-cluster mode starts executors from it.
    os.environ.setdefault("SPARK_HOME", os.path.dirname(pyspark.__file__))
    from pyspark import SparkFiles, StorageLevel
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T

    builder = SparkSession.builder.appName("bertopic").config("spark.ui.enabled", "false")
    if a.master:
        builder = builder.master(a.master)
    spark = builder.getOrCreate()
    sc = spark.sparkContext
    out = os.path.abspath(a.output)
    os.makedirs(out, exist_ok=True)
    timings, t0 = {}, time.time()
    bin_ = a.bertopic
    stream = ["--input", "-", "--output", "-", "--batch-size", str(a.batch_size), "--text-columns", a.text_columns]
    model_arg = ["--model", a.embedding_model] if a.embedding_model else []

    # Ids first (line numbers where missing), so every later stage can be joined back.
    lines = sc.textFile(a.input).filter(lambda l: l.strip()).zipWithIndex()

    def with_id(pair):
        line, i = pair
        rec = json.loads(line)
        rec.setdefault("id", i + 1)
        return rec

    docs = lines.map(with_id)
    if a.partitions:
        docs = docs.repartition(a.partitions)

    def embed(part):
        cmd = [bin_, "-q", "embed", *stream, *model_arg]
        return pipe(cmd, part, lambda r: r, lambda r, o: dict(r, embedding=o["embedding"]))

    embedded = docs.mapPartitions(embed).persist(StorageLevel.MEMORY_AND_DISK)
    n_docs = embedded.count()
    timings["embed_s"] = time.time() - t0

    # The fit sample: chosen by hash of the id, so it does not depend on the partitioning.
    t = time.time()
    seed = a.seed
    sample = embedded.filter(lambda r: r["embedding"] is not None).map(
        lambda r: (sample_key(seed, r["id"]), r)
    ).takeOrdered(a.sample_size, key=lambda kv: kv[0])
    sample = [r for _, r in sample]
    with open(os.path.join(out, "sample.jsonl"), "w") as f:
        for r in sample:
            f.write(json.dumps({k: v for k, v in r.items() if k != "embedding"}) + "\n")
    write_npy(os.path.join(out, "sample.npy"), [r["embedding"] for r in sample])
    model_dir = os.path.join(out, "model")
    subprocess.run(
        [bin_, "-q", "train", "--input", os.path.join(out, "sample.jsonl"), "--input-format", "jsonl",
         "--text-columns", a.text_columns, "--embeddings", os.path.join(out, "sample.npy"),
         "--output", model_dir, "--seed", str(seed), *model_arg, *a.train_arg],
        check=True,
    )
    timings["fit_s"] = time.time() - t

    # Predict and count every partition with the shipped model.
    t = time.time()
    # addFile takes no local folder on a cluster: ship the model as an archive, which every
    # executor unpacks into a folder of the archive's name.
    archive = shutil.make_archive(os.path.join(out, "model-shipped"), "zip", model_dir)
    sc.addArchive(archive)
    shipped = os.path.basename(archive)

    def predict(part):
        cmd = [bin_, "-q", "predict", "--model", SparkFiles.get(shipped), *stream]
        keep = lambda r, o: dict({k: v for k, v in r.items() if k != "embedding"},
                                 topic=o["topic"], probability=o["probability"])
        return pipe(cmd, part, lambda r: r, keep)

    predicted = embedded.mapPartitions(predict).persist(StorageLevel.MEMORY_AND_DISK)

    def count(part):
        cmd = [bin_, "-q", "counts", "--model", SparkFiles.get(shipped), *stream]
        rows = (json.dumps({k: v for k, v in r.items() if k != "probability"}) for r in part)
        yield run_all(cmd, rows)

    parts = predicted.mapPartitions(count).collect()
    timings["predict_count_s"] = time.time() - t

    # Merge the counts exactly on the driver and write the tables.
    t = time.time()
    counts_dir = os.path.join(out, "counts")
    shutil.rmtree(counts_dir, ignore_errors=True)
    os.makedirs(counts_dir)
    files = []
    for i, c in enumerate(parts):
        files.append(os.path.join(counts_dir, f"part-{i:05d}.json"))
        with open(files[-1], "w") as f:
            f.write(c)
    info_csv = os.path.join(out, "topic_info.csv")
    subprocess.run([bin_, "-q", "topic-words", "--model", model_dir, "--counts", *files, "--output", info_csv], check=True)
    with open(info_csv, newline="") as f:
        info = [(int(r["Topic"]), int(r["Count"]), r["Name"], r["Representation"].split(" ")) for r in csv.DictReader(f)]
    info_schema = T.StructType([
        T.StructField("topic", T.LongType()), T.StructField("count", T.LongType()),
        T.StructField("name", T.StringType()), T.StructField("words", T.ArrayType(T.StringType())),
    ])
    spark.createDataFrame(info, info_schema).coalesce(1).write.mode("overwrite").parquet(
        os.path.join(out, "topic_info.parquet"))
    doc_schema = T.StructType([
        T.StructField("id", T.StringType()), T.StructField("topic", T.LongType()),
        T.StructField("probability", T.DoubleType()),
    ])
    as_id = lambda v: v if isinstance(v, str) else json.dumps(v)
    spark.createDataFrame(predicted.map(lambda r: (as_id(r["id"]), r["topic"], r["probability"])), doc_schema) \
        .write.mode("overwrite").parquet(os.path.join(out, "document_topics.parquet"))
    timings["merge_write_s"] = time.time() - t
    timings["total_s"] = time.time() - t0

    summary = {
        "documents": n_docs, "sample": len(sample), "partitions": embedded.getNumPartitions(),
        "topics": sum(1 for r in info if r[0] >= 0),
        "outliers": sum(r[1] for r in info if r[0] < 0),
        **{k: round(v, 2) for k, v in timings.items()},
    }
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    if a.mlflow_uri:
        log_mlflow(a, summary, out)
    spark.stop()
    print(json.dumps(summary))
    return summary


def log_mlflow(a, summary, out):
    import mlflow  # only needed when logging

    mlflow.set_tracking_uri(a.mlflow_uri)
    mlflow.set_experiment(a.experiment)
    with mlflow.start_run(run_name="bertopic-spark"):
        mlflow.log_params({"input": a.input, "sample_size": a.sample_size, "seed": a.seed,
                           "partitions": summary["partitions"], "train_args": " ".join(a.train_arg)})
        mlflow.log_metrics({k: float(v) for k, v in summary.items() if isinstance(v, (int, float))})
        mlflow.log_artifact(os.path.join(out, "topic_info.csv"))
        mlflow.log_artifacts(os.path.join(out, "model"), "model")


if __name__ == "__main__":
    main()
