"""Persistence: SQLAlchemy 2 models, the database connection, migrations, and the stores."""
