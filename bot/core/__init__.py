"""Settings, the services container, Redis keys, identity and encryption, logging."""
