"""Pure scoring: every function takes time and data as arguments and reads no clock, file or network."""
