"""msfix rules: one module per rule, named ms<code>_<name>.py."""
