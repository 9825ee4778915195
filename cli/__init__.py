"""Every command-line handler: parse, call the operator service or a job, print the message models chat renders.

`cli.main` builds the parser from the modules here; each module's `register(subparsers)` adds its
commands and sets `handler(settings, args) -> exit code`. Top-level imports in this package stay
light (standard library only): every call, `--help` included, pays for what is imported here.
"""
