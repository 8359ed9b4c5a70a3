enum EvctlServerPlaceholder {}
