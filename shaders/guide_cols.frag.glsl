#version 330 core
// The guided filter's vertical box sums of guide_rows' output, edges clamped (guide_radius
// above FUSED_GUIDE_RADIUS only), then
//   stage 0: cpu.guide_coefficients → (a, b) in out0, w in out1;
//   stage 1: the whole-window sums of (a, b) and w, for matte.frag.glsl (BOX_ROWS 0).

#include "common.glsl"

uniform sampler2D src;           // stage 0: guide_rows' stage 0 sums; stage 1: its (a, b) sums
uniform sampler2D src_w;         // stage 0: guide_rows' matte² sums; stage 1: its w sums
uniform int stage;

layout(location = 0) out vec2 out0;
layout(location = 1) out float out1;

vec4 terms(ivec2 q) {
    if (stage == 0) {
        return texelFetch(src, q, 0);
    }
    return vec4(texelFetch(src, q, 0).rg, texelFetch(src_w, q, 0).r, 0.0);
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    int last = textureSize(src, 0).y - 1;
    vec4 acc = terms(ivec2(p.x, clamp(p.y - guide_radius, 0, last)));
    for (int k = -guide_radius + 1; k <= guide_radius; k++) {
        acc += terms(ivec2(p.x, clamp(p.y + k, 0, last)));
    }
    vec3 result = acc.xyz;
    if (stage == 0) {
        float pp = texelFetch(src_w, ivec2(p.x, clamp(p.y - guide_radius, 0, last)), 0).r;
        for (int k = -guide_radius + 1; k <= guide_radius; k++) {
            pp += texelFetch(src_w, ivec2(p.x, clamp(p.y + k, 0, last)), 0).r;
        }
        result = guide_coefficients(acc, pp);
    }
    out0 = result.xy;
    out1 = result.z;
}
