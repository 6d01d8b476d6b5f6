"""noqa comments (golden: noqa_cases.expected)."""
import mlflow

mlflow.search_runs(filter_string="params.a = 1")  # noqa: MF201
mlflow.search_runs(filter_string="params.b = 2")  # noqa
mlflow.search_runs(filter_string="params.c = 3")  # noqa: MF2
mlflow.search_runs(filter_string="params.d = 4")  # NOQA:MF201,E501 some reason
mlflow.search_runs(filter_string="params.e = 5")  # noqa: E501
mlflow.search_runs(filter_string="params.f = 6")  # noqa: MF2O1
mlflow.search_runs(filter_string="params.g = '7'")  # noqa: MF201
mlflow.search_runs(filter_string="params.h = 8")  # noqa: MF201, MF305
mlflow.search_runs(filter_string="params.i = 9")  # noqa:
mlflow.search_runs(filter_string="params.j = 10")  # noqa: MF299
mlflow.search_runs(filter_string="params.k = '# noqa: MF201' AND params.l = 11")
mlflow.search_runs(filter_string="""
    params.m = 12
""")  # noqa: MF201
x = 1  # noqa: MF201
