"""Domain rules as plain functions over a SQLAlchemy session or plain values.

No Flask imports here, and nothing here commits: the request or the CLI command owns the
transaction. Importing the package installs the change-sequence hooks (see change_seq.py), so
every session that writes synced records numbers its changes at commit.
"""

from . import change_seq

change_seq.install()
