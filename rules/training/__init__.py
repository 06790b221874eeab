"""msfix rules: training loops, Model, optimizers, torch habits (MS4xx). One module per rule, ms<code>_<name>.py; helpers shared
by this family only sit beside them in _<name>.py."""
