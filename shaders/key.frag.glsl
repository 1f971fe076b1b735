#version 330 core
// Pass 1 — decode and key: planes → RGB (cpu.decode_rgb), screen membership and raw alpha
// (the first half of cpu.key_frame). Writes only what later passes need, narrow:
//   guide_out (RG32F): luma and the raw matte, the guided filter's inputs (float32: its
//                      variance sums cancel, E[I²] − E[I]², so rounding here would show);
//   gate_out  (R8):    colour_gate, spill_gate's membership half, for the composite.
// Luma is computed here once; membership is never computed again.

#include "common.glsl"
#include "decode.glsl"

layout(location = 0) out vec2 guide_out;
layout(location = 1) out float gate_out;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec3 rgb = decode_rgb(p);
    vec4 hslc = rgb_to_hsl(rgb);
    float hue_m = hue_membership(hslc.x);
    float member = screen_membership(hue_m, hslc.y, hslc.z, hslc.w);
    float se = screen_excess(screen_at(p), key);
    guide_out = vec2(luma(rgb), raw_alpha(key_excess(rgb, key), member, se));
    gate_out = colour_gate(hue_m, hslc.y);
}
