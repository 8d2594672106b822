"""Windows and widgets: they show state and send requests; they compute nothing."""
