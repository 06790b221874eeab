"""msfix rules: checkpoints (MS5xx). One module per rule, ms<code>_<name>.py; helpers shared
by this family only sit beside them in _<name>.py."""
