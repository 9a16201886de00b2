"""The built-in rule library: YAML content, shipped inside the package as analyzer.builtin_rules."""
