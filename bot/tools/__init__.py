"""Command-line tools: the stack supervisor, chat simulator, key rotation, fingerprint, privacy audit."""
