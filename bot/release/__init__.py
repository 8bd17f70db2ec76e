"""The release domain: pydantic models, loading from data/, and lookups by name, code or topic."""
