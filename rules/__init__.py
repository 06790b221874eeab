"""msfix rules, one subpackage per family (meta, api, data, network, training,
checkpoint, hyperparams, graph): rules/<family>/ms<code>_<name>.py, with the helpers
shared by one family beside its rules in rules/<family>/_<name>.py."""
