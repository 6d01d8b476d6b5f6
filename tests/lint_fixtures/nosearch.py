"""Neither of the two trigger words is in this file, so the linter never parses it."""
this is not valid Python, and no error is reported for it
