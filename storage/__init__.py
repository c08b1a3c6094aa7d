"""storage: the object store (MinIO) and the register database (SQLAlchemy + Alembic).

- ``objects`` — the S3 object store on MinIO (scans and copies buckets, Object Lock);
  ``minio_server`` — a local MinIO server per data directory (built with ``go install``).
- ``database`` — engine, tables (SQLAlchemy models) and Alembic migrations (``migrations/``).
- ``sql_register`` — ``SqlRegister``, the register repository (``certify.ports``), made of:
  ``numbering`` (the register transaction, numbers and entries), ``requests``, ``officers``
  (provinces, authorities, officers), ``audit_chain`` (the hash-chained audit log) and
  ``sql_base`` (sessions, SQLAlchemy errors translated into the service's).
- ``pki_index`` — the PKI's certificate index in the register database
  (``keys.index_store.IndexStore``).
"""
