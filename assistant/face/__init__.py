"""What people use: the command line and the terminal chat. They reach the product through
`assistant.session` only (and the core)."""
