"""Plan and apply: desired state from config, live state from providers."""
