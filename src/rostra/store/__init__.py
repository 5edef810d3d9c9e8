"""Storage: SQLAlchemy Core tables, the engine, and the queries services run."""
