"""The side-by-side benchmark: hookgram against the usual aiogram and PTB setups (`bench.run`)."""
