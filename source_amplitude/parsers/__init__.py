"""Pure parsers, one module per stream module in streams/: Amplitude's answers in, records out."""
