#version 330 core
// Pass 2, where membership reaches (cpu.member_reach(p) > 0: a vivid screen's window) —
// cpu.reach_membership's window and the raw matte it gates: near = the max of the key pass's
// seeds over the (2·REACH_RADIUS + 1)² square around the pixel (edges clamped, as
// cpu.window_reduce pads), membership raised to near · can_mix, and raw_alpha of it. Writes
// guide_out (RG32F): luma and that raw matte, what the key pass writes itself without a reach.
//
// Only a pixel that can be a mix (can_mix > 0) and is not all member already can change, and
// it alone reads the window: elsewhere near is left 0, exactly as good, for near · 0 is 0 and
// max(1, near · can_mix) is 1. Most of a frame is plainly screen or plainly subject, so the
// window is a loop whose trip count is 0 there: a software rasteriser (llvmpipe) runs both
// sides of an `if` under a mask, but leaves a loop as soon as no pixel of its group is in it
// (benchmarks/pass_times.py measures both ways: the loop costs a fraction of the unrolled
// window on a sample frame, and somewhat more than it where every pixel reads its window).
//
// REACH_RADIUS is a #define chromakey/keying/gpu/passes.py sets.

#include "common.glsl"

#define REACH_WIDTH (2 * REACH_RADIUS + 1)

uniform sampler2D keyed_tex;     // key pass: (luma, membership, share, can_mix)
uniform sampler2D seed_tex;      // key pass: reach_seed

out vec2 guide_out;

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
    float member = k.y;
    float share = k.z;
    float mix_ = k.w;            // can_mix
    bool may_rise = mix_ > 0.0 && member < 1.0;
    float near = near_seed(p, may_rise ? REACH_WIDTH * REACH_WIDTH : 0);
    guide_out = vec2(k.x, raw_alpha(share, reach_membership(member, near, mix_)));
}
