"""Where issued signing secrets go: the record format and its backends."""
