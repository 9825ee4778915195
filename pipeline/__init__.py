"""The cycle shell: one cycle around the pure core (intelligence/), and replay over history.

Reads the sources (providers/), scores through the store's cache, runs the pure cycle, persists what
it saw and said, writes the run's artifact and proposes (trading/). `cycle` is one live cycle,
`replay` the walk-forward over files; `data_sources` and `news_input` choose what is read.
"""
