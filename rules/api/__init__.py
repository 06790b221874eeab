"""msfix rules: the MindSpore API: names, versions, signatures (MS1xx). One module per rule, ms<code>_<name>.py; helpers shared
by this family only sit beside them in _<name>.py."""
