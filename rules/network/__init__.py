"""msfix rules: Cells and layers (MS3xx). One module per rule, ms<code>_<name>.py; helpers shared
by this family only sit beside them in _<name>.py."""
