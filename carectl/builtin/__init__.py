"""Built-in plugins: carectl's own behaviour, on the same hooks a vendor plugin uses.

Each module here is registered by name (see carectl.plugins.DEFAULT_PLUGINS) and can be blocked
in config to be replaced. Modules here may use the service layer but never the CLI or TUI.
"""
