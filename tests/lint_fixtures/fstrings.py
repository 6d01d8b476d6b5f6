"""f-strings: the static parts are checked, each placeholder is a value of unknown content
(golden: fstrings.expected). Lines marked `clean` must give nothing."""
import mlflow

m = bs = t = k = v = base = pattern = s = ids = op = key = eid = a = b = d = p = n = 0

mlflow.search_runs(filter_string=f"params.model = '{m}'")  # clean
mlflow.search_runs(filter_string=f"params.bs = {bs}")  # MF601 at {bs}
mlflow.search_runs(filter_string=f"metrics.acc > {t}")  # clean: metrics take numbers
mlflow.search_runs(filter_string=f"tags.{k} = '{v}'")  # clean
mlflow.search_runs(filter_string=f"{base} AND metrics.acc > 0.9")  # clean
mlflow.search_runs(filter_string=f"{base} AND metric_s.acc > 0.9")  # MF209: static part
mlflow.search_runs(filter_string=f"params.model LIKE '{pattern}'")  # clean: may hold a %
mlflow.search_runs(filter_string=f"attributes.status = '{s}'")  # clean: may be FINISHED
mlflow.search_runs(filter_string=f"run_id IN ({ids})")  # clean: may be a quoted list
mlflow.search_runs(filter_string=f"metrics.acc {op} 0.5")  # clean: may be >
mlflow.search_runs(filter_string=f"metrics.acc > '{t}'")  # MF211: quoted, whatever t is
mlflow.search_runs(filter_string=f"params.bs = {bs} AND params.lr = 0.1")  # MF601, MF201
mlflow.search_runs(filter_string=f"{key} = 'x'")  # clean
mlflow.search_runs(filter_string=f"params.x = {v!r}")  # clean: repr() quotes a string
mlflow.search_experiments(filter_string=f"experiment_id = '{eid}'")  # clean
mlflow.search_runs(filter_string=f"params.a = '{{x}}' AND params.b = 3")  # MF201 at 3
mlflow.search_runs(filter_string=f"params.bs = {bs:d}")  # MF601
mlflow.search_runs(filter_string=f"metrics.{m} > 0.5 AND params.bs = 32")  # MF201 at 32
mlflow.search_runs(filter_string=rf"params.path = '{p}\d' AND params.n = 5")  # MF201 at 5
mlflow.search_runs(filter_string=f'params.n = 5')  # MF201
mlflow.search_runs(filter_string=f"params.a = '{a}{b}'")  # clean
mlflow.search_runs(filter_string=f"params.a = '{d['k']}'")  # clean
mlflow.search_runs(filter_string=f"params.a = '{a}' OR params.b = '{b}'")  # MF202: static
mlflow.search_runs(filter_string=f"params.a = '{a}'" " AND params.b = 4")  # MF201 at 4
