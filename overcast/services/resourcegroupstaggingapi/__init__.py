"""The Resource Groups Tagging API: the tags of every service's resources, listed and changed in one place.

It reads the kit's tag table (services/kit/tags.py), where every service keeps its resources' tags, and changes
tags through each service's own tagging operation (its provider's `tagging_request` hook, by Platform.call as the
caller), as AWS does: the caller needs the service's own tag permission too.
"""
