"""Source → landing-contract mappings, one JSON file per source system (see etl/sources/mapping.py)."""
