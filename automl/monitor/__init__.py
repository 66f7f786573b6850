"""Watching a model after training: the reference profile it carries, drift of new data
against it, and the model's performance on new data, measured or estimated without labels."""
