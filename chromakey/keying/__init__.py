"""The keyer: which backend keys a frame (``select``). The keyers themselves (the numpy
reference, the compiled CPU kernels, the GLSL passes, calibration) join this folder."""
