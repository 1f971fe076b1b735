#version 330 core
// The guided filter's horizontal box sums (cpu.guided_matte: box_sum along rows), edges
// clamped, added tap by tap as numpy adds them. Only for guide_radius above
// FUSED_GUIDE_RADIUS, where guide.frag.glsl's shared taps would cost more than these passes.
//   stage 0: of (luma, raw matte, luma·matte, luma²) from the key pass → out0 (RGBA32F:
//            variance sums), and of matte² → out1;
//   stage 1: of the coefficients (a, b) and w from guide_cols' stage 0 → out0, out1.

#include "common.glsl"

uniform sampler2D src;           // stage 0: key pass (luma, raw matte); stage 1: (a, b)
uniform sampler2D src_w;         // stage 1: w
uniform int stage;

layout(location = 0) out vec4 out0;
layout(location = 1) out float out1;

vec4 terms(ivec2 q) {
    if (stage != 0) {
        return vec4(texelFetch(src, q, 0).rg, texelFetch(src_w, q, 0).r, 0.0);
    }
    vec2 g = texelFetch(src, q, 0).rg;
    return vec4(g.x, g.y, g.x * g.y, g.x * g.x);
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    int last = textureSize(src, 0).x - 1;
    vec4 acc = terms(ivec2(clamp(p.x - guide_radius, 0, last), p.y));
    for (int k = -guide_radius + 1; k <= guide_radius; k++) {
        acc += terms(ivec2(clamp(p.x + k, 0, last), p.y));
    }
    out0 = stage != 0 ? vec4(acc.xy, 0.0, 0.0) : acc;
    if (stage != 0) {
        out1 = acc.z;
    } else {  // matte², summed in the same order
        int y = p.y;
        float pp = 0.0;
        for (int k = -guide_radius; k <= guide_radius; k++) {
            float m = texelFetch(src, ivec2(clamp(p.x + k, 0, last), y), 0).g;
            pp += m * m;
        }
        out1 = pp;
    }
}
