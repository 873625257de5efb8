"""The raw-events path: hour windows, archive download and reading, record shaping."""
