#version 330 core
// Pass 3 — the guided matte at this pixel (cpu.guided_matte's last step): the column half of
// the second box filter over the row sums, scaled, and the blend of the fit with the raw matte.
// The edge test and clip come after, on a window of this texture (refine.glsl).
//
// BOX_ROWS is a #define chromakey/keying/gpu/passes.py sets per program: guide_radius, whose
// column sums are added here tap by tap in cpu.box_sum's order, or 0 when ab_tex / w_tex hold
// whole-window sums already (guide_cols' stage 1, for radii above FUSED_GUIDE_RADIUS).

#include "common.glsl"

uniform sampler2D guide_tex;     // key pass: (luma, raw matte)
uniform sampler2D ab_tex;        // row sums of (a, b): guide pass (or guide_rows / guide_cols)
uniform sampler2D w_tex;         // … and of w

out float matte_out;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    int last = textureSize(guide_tex, 0).y - 1;
    vec3 sums = vec3(0.0);       // 0 + t is t exactly: numpy's sum starts from the first tap
    for (int k = -BOX_ROWS; k <= BOX_ROWS; k++) {
        ivec2 q = ivec2(p.x, clamp(p.y + k, 0, last));
        sums += vec3(texelFetch(ab_tex, q, 0).rg, texelFetch(w_tex, q, 0).r);
    }
    vec2 g = texelFetch(guide_tex, p, 0).rg;
    matte_out = guided_matte(sums, g.x, g.y);
}
