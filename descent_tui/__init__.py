"""descent: watch a neural network learn, one gradient step at a time."""

__version__ = "0.1.0"
