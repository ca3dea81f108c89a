"""Channel adapters: turn provider webhooks into channel-neutral messages and back."""
