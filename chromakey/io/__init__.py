"""Where frames come from and go to: locations (one URL policy), PyAV media opening (one
error translator), sources and sinks."""
