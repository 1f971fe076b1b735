// What every keying pass reads: the keyer's settings, generated from the table in
// chromakey/keying/param_table.py (settings.glsl, made by the shader library, not a file
// here), and the frame's own uniforms below.
#include "settings.glsl"

uniform vec3 luma_w;           // cpu.luma_weights(frame): (Kr, Kg, Kb) of the frame's matrix (key pass)
uniform sampler2D screen_map;  // ScreenMap.colors: RGB32F, one texel per block (texel row 0 = block row 0)
uniform int screen_cell;       // ScreenMap.cell: block size in pixels
