"""mlfilter's own string-taking entry points (golden: builder.expected)."""
import mlfilter
from mlfilter import F, check, search_experiments

q = mlfilter.search_runs(["0"]).where("params.bs = 32").order_by("metrics.a", "metrics.a DESC")
e = search_experiments()
e = e.where("name like 'x'").limit(3)
mlfilter.search_traces(["0"]).where(F.tag("k") == "v").where("timestamp > 1.5")
check("tags.x = 1", api="experiments")
mlfilter.check("params.ok = '1'")
mlfilter.parse("metrics.acc > '0.5'", "logged_models")
mlfilter.check_order_by(["name", "name"], "registered_models")
mlfilter.check("params.any = 1", api=API)
df.where("params.bs = 32")  # not a query: pandas, say
