"""Cross-cutting infrastructure: settings, storage, errors, middleware. Imports no domain."""
