"""AutoML: from a table to a tuned, explained and safe model file."""
