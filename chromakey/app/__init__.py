"""The applications: the command line and the preview window, with the options they share."""
