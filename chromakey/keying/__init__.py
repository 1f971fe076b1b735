"""The keyer: ``calibration`` measures the screen, ``reference`` (numpy, the oracle),
``kernels`` (the compiled CPU keyer) and ``gpu`` (the GLSL passes) key a frame, and
``select`` picks which backend does."""
