"""Prints the resource-type table of docs/services/cloudformation.md."""

from overcast.services.cloudformation.resources import table

print(table())
