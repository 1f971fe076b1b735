#version 330 core
// The guided filter's vertical box sums of guide_rows' output, edges clamped, then
//   stage 0: cpu.guide_coefficients → (a, b, w);
//   stage 1: their window means and cpu.guided_matte's blend → the guided matte.

#include "common.glsl"

uniform sampler2D sums_tex;      // guide_rows' output
uniform sampler2D key_tex;       // key pass: RGB + raw alpha (stage 1)
uniform int stage;

out vec4 guide_out;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    int last = textureSize(sums_tex, 0).y - 1;
    vec4 acc = texelFetch(sums_tex, ivec2(p.x, clamp(p.y - guide_radius, 0, last)), 0);
    for (int k = -guide_radius + 1; k <= guide_radius; k++) {
        acc += texelFetch(sums_tex, ivec2(p.x, clamp(p.y + k, 0, last)), 0);
    }
    if (stage == 0) {
        guide_out = vec4(guide_coefficients(acc), 0.0);
        return;
    }
    vec3 mean_coef = acc.xyz * (1.0 / float((2 * guide_radius + 1) * (2 * guide_radius + 1)));
    vec4 key_px = texelFetch(key_tex, p, 0);
    guide_out = vec4(guided_matte(mean_coef, luma(key_px.rgb), key_px.a));
}
