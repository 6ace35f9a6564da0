"""All SQL lives here; views and jobs call these functions."""
