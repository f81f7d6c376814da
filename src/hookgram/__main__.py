"""Allow ``python -m hookgram``."""

from __future__ import annotations

from hookgram.cli import main

if __name__ == "__main__":
    main()
