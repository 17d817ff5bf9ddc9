"""Alembic environment. The schema's only source: tests and deployments run `upgrade head`.

The caller passes either a live connection (`config.attributes["connection"]`, used by the
test suite and `flask db upgrade`) or a URL (`sqlalchemy.url`).
"""

from alembic import context

from fieldapp.extensions import build_engine
from fieldapp.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = build_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        run_migrations(conn)
        conn.commit()
