"""storage: the object store (MinIO) and the register database (SQLAlchemy + Alembic)."""
