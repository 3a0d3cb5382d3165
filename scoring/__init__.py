"""Pure pandas scoring: frames in, frames out. Imports nothing else of the project, does no I/O."""
