"""Sources: where inbound webhooks come from and how each is verified and keyed."""
