"""The operator service: plain Python returning data, under chat and the shell alike.

`operator` is the facade every channel calls; `chat_ops` holds subscriptions, stored digests and
signals; `read_cache` shares a burst of reads. Nothing here parses chat input or renders text.
"""
