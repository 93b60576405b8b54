"""One module per ``acore-doctor`` subcommand."""
