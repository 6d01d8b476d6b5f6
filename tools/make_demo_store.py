"""Writes mlfilter/data/demo.db (a small MLflow tracking store, made with MLflow's own client)
and mlfilter/data/demo_schema.json (its schema snapshot). Deterministic: same seed, fixed times.

The store holds the kinds of data that make searches go wrong: lower-case param values, numbers
logged as strings, a metric that never reaches 0.95, a param only deleted runs have.
Usage: python tools/make_demo_store.py
"""

import os
import random
import shutil
import sqlite3
import sys
import tempfile
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT_DB = ROOT / "mlfilter" / "data" / "demo.db"
OUT_SCHEMA = ROOT / "mlfilter" / "data" / "demo_schema.json"
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, in milliseconds


def build(path: str) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    rng = random.Random(7)
    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    vision = client.create_experiment("demo-classifier", artifact_location="/tmp/mlfilter-demo",
                                      tags={"team": "vision"})
    nlp = client.create_experiment("demo-nlp", artifact_location="/tmp/mlfilter-demo-nlp")
    statuses = ["FINISHED"] * 7 + ["FAILED", "KILLED"]
    for i in range(40):
        model = rng.choice(["cnn", "resnet"])
        optimizer = rng.choice(["adam", "sgd"])
        lr = rng.choice(["0.001", "0.01", "0.1"])
        batch = rng.choice(["32", "64"])
        run = client.create_run(vision, start_time=T0 + i * 3_600_000,
                                tags={"mlflow.runName": f"{model}-{optimizer}-{i}",
                                      "stage": rng.choice(["dev", "prod"])})
        accuracy = round(rng.uniform(0.62, 0.94), 4)
        client.log_batch(run.info.run_id,
                         metrics=[Metric("accuracy", accuracy, T0 + i, 0),
                                  Metric("loss", round(1.2 - accuracy, 4), T0 + i, 0)],
                         params=[Param("model", model), Param("optimizer", optimizer),
                                 Param("learning_rate", lr), Param("batch_size", batch)])
        status = "RUNNING" if i == 39 else rng.choice(statuses)
        client.set_terminated(run.info.run_id, status=status,
                              end_time=None if status == "RUNNING" else T0 + i * 3_600_000 + 600_000)
    for i in range(5):  # deleted runs: the only ones with old_flag
        run = client.create_run(vision, start_time=T0 - (i + 1) * 86_400_000,
                                tags={"mlflow.runName": f"legacy-{i}"})
        client.log_batch(run.info.run_id, params=[Param("old_flag", "1"), Param("optimizer", "adam")],
                         metrics=[Metric("accuracy", 0.5, T0, 0)], tags=[RunTag("stage", "dev")])
        client.set_terminated(run.info.run_id, end_time=T0 - i)
        client.delete_run(run.info.run_id)
    for i in range(8):
        run = client.create_run(nlp, start_time=T0 + i * 60_000,
                                tags={"mlflow.runName": f"bert-{i}"})
        client.log_batch(run.info.run_id, params=[Param("tokenizer", "wordpiece"),
                                                  Param("epochs", str(3 + i % 3))],
                         metrics=[Metric("f1", round(0.7 + i / 100, 3), T0, 0)])
        client.set_terminated(run.info.run_id, end_time=T0 + i * 60_000 + 5000)
    client.create_registered_model("demo-classifier", tags={"owner": "vision"})


def main() -> None:
    tmp = tempfile.mkdtemp()
    try:
        db = os.path.join(tmp, "demo.db")
        build(db)
        con = sqlite3.connect(db)
        con.execute("VACUUM")
        con.close()
        shutil.copyfile(db, OUT_DB)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    from mlfilter.schema import Schema

    schema = Schema.from_store(f"sqlite:///{OUT_DB}")
    schema.source = "mlfilter demo store"
    schema.dump(OUT_SCHEMA)


if __name__ == "__main__":
    main()
