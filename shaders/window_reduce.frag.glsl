#version 330 core
// One 1-D half of cpu._window_reduce_1d (window_reduce): min or max over 2·radius + 1 texels
// along `direction`, edges clamped. Two passes (rows, then columns) make the square filter,
// exactly as on the CPU. Used by choke_matte (min for choke > 0, max for choke < 0) and by spill_gate's
// near-screen test (min of alpha over spill_radius, i.e. max of 1 − alpha).

uniform sampler2D src;
uniform ivec2 direction;         // (1, 0) along rows, (0, 1) along columns
uniform int radius;
uniform int use_max;             // 1: max, 0: min

out float reduced;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    ivec2 last = textureSize(src, 0) - 1;
    float acc = texelFetch(src, clamp(p - radius * direction, ivec2(0), last), 0).r;
    for (int k = -radius + 1; k <= radius; k++) {
        float a = texelFetch(src, clamp(p + k * direction, ivec2(0), last), 0).r;
        acc = use_max != 0 ? max(acc, a) : min(acc, a);
    }
    reduced = acc;
}
