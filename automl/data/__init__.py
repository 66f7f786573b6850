"""Loading tables and inferring their schema."""
