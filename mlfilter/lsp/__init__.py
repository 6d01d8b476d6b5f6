"""`mlfilter server`: a language server, so editors show mistaken MLflow searches as you type.

It sits on the lint layer (mlfilter.lint): the same findings as `mlfilter lint`, for open .py
files and notebooks. pygls and lsprotocol come with the `lsp` extra: `pip install 'mlfilter[lsp]'`.
"""
