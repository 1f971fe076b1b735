#version 330 core
// Pass 1 — decode and key: planes → RGB (cpu.decode_rgb), screen membership and raw alpha
// (the first half of cpu.key_frame). Writes only what later passes need, narrow. REACH, a
// #define chromakey/keying/gpu/passes.py sets, says whether membership's reach follows:
//   REACH 0: guide_out (RG32F): luma and the raw matte, the guided filter's inputs (float32:
//            its variance sums cancel, E[I²] − E[I]², so rounding here would show), and
//            colour_out (RGBA32F): solid_colour, the local colour model's terms;
//   REACH 1: keyed_out (RGBA32F): luma, membership, share and can_mix, and seed_out (R32F):
//            reach_seed, from which the reach pass (reach.frag.glsl) writes the guide target
//            and solid_colour (float32: the raw matte is made of them);
//   both:    gate_out (R8): colour_gate, spill_gate's membership half, for the composite.
// Luma is computed here once; membership is never computed again.

#include "common.glsl"
#include "decode.glsl"

#if REACH
layout(location = 0) out vec4 keyed_out;
#else
layout(location = 0) out vec2 guide_out;
#endif
layout(location = 1) out float gate_out;
#if REACH
layout(location = 2) out float seed_out;
#else
layout(location = 2) out vec4 colour_out;
#endif

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec3 rgb = decode_rgb(p);
    vec4 hslc = rgb_to_hsl(rgb);
    float hue_m = hue_membership(hslc.x);
    float member = screen_membership(hue_m, hslc.y, hslc.z, hslc.w);
    vec3 screen_ = screen_at(p);
    float share = screen_share(key_excess(rgb, key), screen_excess(screen_, key));
#if REACH
    keyed_out = vec4(luma(rgb), member, share, can_mix(share, rgb, screen_));
    seed_out = reach_seed(member, share);
#else
    float raw = raw_alpha(share, member);
    guide_out = vec2(luma(rgb), raw);
    colour_out = solid_colour(raw, rgb);
#endif
    gate_out = colour_gate(hue_m, hslc.y);
}
