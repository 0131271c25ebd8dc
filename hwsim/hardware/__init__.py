"""The machine: arch description (YAML schema), processing elements, technology."""
