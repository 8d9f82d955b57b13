"""Pictures of losses and models: the data (pure NumPy, mergeable state) in ``data``,
drawn in the terminal by ``terminal`` (plotext) or to a file by ``figure`` (matplotlib)."""
