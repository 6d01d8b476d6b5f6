"""The MLflow release whose behaviour mlfilter reproduces: the one place it is written."""

MLFLOW_TARGET = "3.17.2"
