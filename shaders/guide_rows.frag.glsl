#version 330 core
// The guided filter's horizontal box sums (cpu.guided_matte: box_sum along rows), edges
// clamped, added tap by tap as numpy adds them.
//   stage 0: of (luma, raw matte, luma·matte, luma²) from the key pass;
//   stage 1: of the coefficients (a, b, w) from guide_cols' stage 0.

#include "common.glsl"

uniform sampler2D src;           // stage 0: key pass (RGB + raw alpha); stage 1: (a, b, w)
uniform int stage;

out vec4 sums_out;

vec4 terms(ivec2 q) {
    vec4 t = texelFetch(src, q, 0);
    if (stage != 0) {
        return t;
    }
    float i = luma(t.rgb);
    return vec4(i, t.a, i * t.a, i * i);
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    int last = textureSize(src, 0).x - 1;
    vec4 acc = terms(ivec2(clamp(p.x - guide_radius, 0, last), p.y));
    for (int k = -guide_radius + 1; k <= guide_radius; k++) {
        acc += terms(ivec2(clamp(p.x + k, 0, last), p.y));
    }
    sums_out = acc;
}
