"""Positions inside string literals of every kind (golden: positions.expected)."""
import mlflow

mlflow.search_runs(filter_string='params.a = 1')
mlflow.search_runs(filter_string=r"params.b = 2")
mlflow.search_runs(filter_string=u"params.c = 3")
mlflow.search_runs(filter_string=b"params.d = 4")
mlflow.search_runs(filter_string=R'params.e\x = 5')
mlflow.search_runs(filter_string="params.\x66 = \x41 AND params.g = 7")
mlflow.search_runs(filter_string="tags.\N{GREEK SMALL LETTER ALPHA} = 8 AND tags.h = '\u00e9' AND tags.i = 9")
mlflow.search_runs(filter_string="tags.note = 'it\'s' AND tags.j = 10")
mlflow.search_runs(filter_string="metrics.é > 1 AND params.ü = 11")
mlflow.search_runs(filter_string=(
    "metrics.acc > 0.9 "
    "AND params.k = 12 "  # a comment between the pieces
    'AND params.l = 13'
))
mlflow.search_runs(filter_string="""
    metrics.acc > 0.9
    AND params.m = 14
""")
mlflow.search_runs(filter_string="metrics.acc > 0.9 \
AND params.n = 15")
mlflow.search_runs(filter_string='''params.o = '16' AND params.p = 17''')
mlflow.search_runs(filter_string="params.q\t= 18")
mlflow.search_runs(filter_string="params.r = 19"     "")
