#version 330 core
// The local colour model's horizontal box sums (cpu.local_foreground: box_sum along rows over
// COLOUR_RADIUS), edges clamped, added tap by tap in cpu.box_sum's order, of the solid weight
// and the weighted colour (w, w·r, w·g, w·b) the key or reach pass wrote. RGBA32F: F is a
// ratio of these sums, and the residual's ramp (COLOUR_RESIDUAL) amplifies its errors.

#include "common.glsl"

uniform sampler2D src;           // key or reach pass: solid_colour

out vec4 sums_out;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    int last = textureSize(src, 0).x - 1;
    vec4 acc = texelFetch(src, ivec2(clamp(p.x - COLOUR_RADIUS, 0, last), p.y), 0);
    for (int k = -COLOUR_RADIUS + 1; k <= COLOUR_RADIUS; k++) {
        acc += texelFetch(src, ivec2(clamp(p.x + k, 0, last), p.y), 0);
    }
    sums_out = acc;
}
