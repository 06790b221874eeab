"""msfix rules: dataset pipelines (MS2xx). One module per rule, ms<code>_<name>.py; helpers shared
by this family only sit beside them in _<name>.py."""
