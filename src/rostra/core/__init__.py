"""Pure domain: values, rules and formats. Imports nothing from the other layers."""
