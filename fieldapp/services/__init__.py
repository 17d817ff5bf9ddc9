"""Domain rules as plain functions over a SQLAlchemy session or plain values.

No Flask imports here, and nothing here commits: the request or the CLI command owns the
transaction.
"""
