"""Crisis-exercise engine: the scenario library (versioned YAML) and the exercise clock, pure Python."""
