"""What mycrmd's concepts are, each defined once; imports nothing of ours."""
