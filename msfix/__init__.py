"""msfix: a static linter and autofixer for MindSpore training scripts."""

__version__ = "0.1.0"
