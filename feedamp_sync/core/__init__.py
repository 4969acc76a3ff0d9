"""Values and rules that the database edge and the outbox's decisions share.

Standard library only: ``db/`` stores these values and applies these rules inside its
transactions, ``outbox/`` decides with them, and neither package imports the other's
modules to get them. A test walks the imports to keep it so.
"""
