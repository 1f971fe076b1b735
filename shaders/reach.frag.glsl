#version 330 core
// Pass 2 — cpu.reach_membership's window and the raw matte it gates: near = the max of the
// key pass's seeds over the (2·REACH_RADIUS + 1)² square around the pixel (edges clamped, as
// cpu.window_reduce pads), the pixel's own membership raised to near · can (can_mix on a vivid
// screen's window, its whole membership on a pale one: cpu.reach_terms), and raw_alpha of it.
// Writes guide_out (RG32F): luma and that raw matte, and colour_out (RGBA32F): its
// solid_colour for the local colour model. The pixel's colour is decoded again for it, only
// where the matte makes it solid subject (w > 0): elsewhere the terms are 0 whatever the colour.
//
// Only a pixel that may rise (can > 0) and is not all member already can change, and it alone
// reads the window: elsewhere near is left 0, exactly as good, for near · 0 is 0 and
// max(1, near · can) is 1. Most of a frame is plainly screen or plainly subject, so the
// window is a loop whose trip count is 0 there: a software rasteriser (llvmpipe) runs both
// sides of an `if` under a mask, but leaves a loop as soon as no pixel of its group is in it
// (benchmarks/pass_times.py measures both ways: the loop costs a fraction of the unrolled
// window on a sample frame, and somewhat more than it where every pixel reads its window).
//
// REACH_RADIUS is a #define chromakey/keying/gpu/passes.py sets.

#include "common.glsl"
#include "decode.glsl"

#define REACH_WIDTH (2 * REACH_RADIUS + 1)

uniform sampler2D keyed_tex;     // key pass: (luma, own membership, share, can)
uniform sampler2D seed_tex;      // key pass: reach_seed

layout(location = 0) out vec2 guide_out;
layout(location = 1) out vec4 colour_out;

// The max of the seeds over the first `taps` pixels of the square around p, row by row (all
// REACH_WIDTH² of them, or none); a clamped edge only repeats pixels inside the picture.
float near_seed(ivec2 p, int taps) {
    ivec2 last = textureSize(seed_tex, 0) - 1;
    float near = 0.0;            // every seed is in [0, 1]
    for (int t = 0; t < taps; t++) {
        ivec2 d = ivec2(t % REACH_WIDTH, t / REACH_WIDTH) - REACH_RADIUS;
        near = max(near, texelFetch(seed_tex, clamp(p + d, ivec2(0), last), 0).r);
    }
    return near;
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec4 k = texelFetch(keyed_tex, p, 0);
    float own = k.y;
    float share = k.z;
    float can = k.w;
    bool may_rise = can > 0.0 && own < 1.0;
    float near = near_seed(p, may_rise ? REACH_WIDTH * REACH_WIDTH : 0);
    float raw = raw_alpha(share, reach_membership(own, near, can));
    guide_out = vec2(k.x, raw);
    colour_out = vec4(0.0);
    int solid = raw > colour_solid.x ? 1 : 0;  // soft_step is 0 at and below its low end
    for (int once = 0; once < solid; once++) {
        colour_out = solid_colour(raw, decode_rgb(p));
    }
}
