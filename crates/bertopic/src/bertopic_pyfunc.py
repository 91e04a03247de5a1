"""MLflow python_function loader for bertopic models (shipped as model code).

``mlflow.pyfunc.load_model(uri).predict(df)`` writes ``df`` (Title/Abstract columns, or any
columns ``bertopic predict`` reads) to a temporary CSV, runs the ``bertopic`` binary on the
model folder and returns a DataFrame with one row per input row: ``topic`` (-1 = outlier, empty
for a record dropped by cleaning) and ``probability``. The binary is ``$BERTOPIC_BIN`` if set,
else ``bertopic`` on ``PATH``. No model code runs in Python.
"""

import os
import shutil
import subprocess
import tempfile


def _binary():
    path = os.environ.get("BERTOPIC_BIN") or shutil.which("bertopic")
    if not path:
        raise RuntimeError(
            "the bertopic binary was not found: set BERTOPIC_BIN to its path or put it on PATH"
        )
    return path


class BertopicModel:
    """A saved bertopic model folder; predictions come from the bertopic binary."""

    def __init__(self, path):
        self.path = path

    def predict(self, model_input, params=None):
        import pandas as pd

        df = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "input.csv")
            dst = os.path.join(tmp, "topics.csv")
            df.to_csv(src, index=False)
            cmd = [_binary(), "--quiet", "predict", "--model", self.path,
                   "--input", src, "--output", dst]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(
                    f"bertopic predict failed ({done.returncode}): {done.stderr.strip()}"
                )
            out = pd.read_csv(dst)
        out = out.sort_values("row").reset_index(drop=True)
        return out[["topic", "probability"]]


def _load_pyfunc(path):
    return BertopicModel(path)
