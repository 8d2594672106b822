"""One module per CLI command. Each exposes ``register(subparsers)``, which adds its parser and sets
``run=callable(args) -> exit status``. Commands only parse arguments, call core and print."""
