"""Everything that talks to the outside for data: files, feeds, market data, models."""
