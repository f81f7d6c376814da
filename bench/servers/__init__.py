"""The comparison servers, each a script run as its own process: `python -m bench.servers.X`."""
