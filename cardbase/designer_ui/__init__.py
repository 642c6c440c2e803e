"""The configurator (Flask blueprint): objects, fields, links, card and table designers.
Every change goes through ``schema_engine.schema_service``; arrives with the configurator
issue."""
