"""The plugin's own tests run sample integrator test files through pytest (``pytester``)."""

pytest_plugins = ["pytester"]
